package dev.dit4j.examples.options;

import dev.dit4j.models.train.TrainingLoop;
import picocli.CommandLine.Option;

/**
 * {@code --minutes}: the training time budget, measured from the start of training; the run stops
 * at the first step boundary past it ({@link TrainingLoop.Builder#minutes}). A command whose run
 * is bounded by its steps creates it with {@link #none()} and words it under {@code minutes} in
 * its resource bundle.
 */
public final class MinutesOption {
    @Option(names = "--minutes", converter = Numbers.Positive.class, description = "training time budget (default ${DEFAULT-VALUE})")
    private Double minutes;

    public MinutesOption(double defaultMinutes) {
        this.minutes = defaultMinutes;
    }

    private MinutesOption() {}

    /** No time budget unless --minutes is given. */
    public static MinutesOption none() {
        return new MinutesOption();
    }

    /** The budget in minutes; null when there is none. */
    public Double minutes() {
        return minutes;
    }

    /** {@code loop} with the time budget, if there is one. */
    public TrainingLoop.Builder applyTo(TrainingLoop.Builder loop) {
        return minutes == null ? loop : loop.minutes(minutes);
    }
}
