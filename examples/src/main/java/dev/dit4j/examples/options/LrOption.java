package dev.dit4j.examples.options;

import picocli.CommandLine.Option;

/**
 * {@code --lr}: the optimiser's learning rate. A command whose default depends on what it trains
 * creates it with {@link #recipeDefault()} and describes that default under {@code lr} in its
 * resource bundle, since {@code ${DEFAULT-VALUE}} would print "null".
 */
public final class LrOption {
    @Option(names = "--lr", converter = Numbers.Positive.class, description = "learning rate (default ${DEFAULT-VALUE})")
    private Double lr;

    public LrOption(double defaultLr) {
        this.lr = defaultLr;
    }

    private LrOption() {}

    /** No default of its own: {@link #lr(double)} supplies the recipe's when --lr is not given. */
    public static LrOption recipeDefault() {
        return new LrOption();
    }

    /** The learning rate; only for an option made with a default. */
    public double lr() {
        if (lr == null) throw new IllegalStateException("--lr has no default here: use lr(recipeLr)");
        return lr;
    }

    /** The given learning rate, or null where the recipe decides. */
    public Double given() {
        return lr;
    }

    /** The given learning rate, else {@code recipeLr}. */
    public double lr(double recipeLr) {
        return lr != null ? lr : recipeLr;
    }
}
