package dev.dit4j.examples.options;

import picocli.CommandLine.Option;

/**
 * {@code --depth}, {@code --classes}: a preset's depth and class count where a model differs from
 * it (a small run's); none by default. Commands word them in their resource bundles.
 */
public final class TrainedSizeOption {
    @Option(names = "--depth", converter = Numbers.PositiveInt.class, description = "the depth, where not the preset's")
    private Integer depth;

    @Option(names = "--classes", converter = Numbers.PositiveInt.class, description = "the number of classes, where not the preset's")
    private Integer classes;

    /** The depth asked for, or null. */
    public Integer depth() {
        return depth;
    }

    /** The class count asked for, or null. */
    public Integer classes() {
        return classes;
    }
}
