package dev.dit4j.examples.options;

import picocli.CommandLine.Option;

/** {@code --seed}: the one seed a run derives its weights, data order and noise from. */
public final class SeedOption {
    @Option(names = "--seed", description = "seed (default ${DEFAULT-VALUE})")
    private long seed = 0;

    public long seed() {
        return seed;
    }
}
