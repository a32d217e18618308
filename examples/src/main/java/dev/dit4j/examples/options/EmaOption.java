package dev.dit4j.examples.options;

import picocli.CommandLine.Option;

/** {@code --ema}: decay of the exponential moving average of the weights that samples are drawn from. */
public final class EmaOption {
    @Option(names = "--ema", converter = Numbers.Fraction.class, description = "EMA decay (default ${DEFAULT-VALUE})")
    private double emaDecay;

    public EmaOption(double defaultDecay) {
        this.emaDecay = defaultDecay;
    }

    public double decay() {
        return emaDecay;
    }
}
