package dev.dit4j.examples.options;

import picocli.CommandLine.Option;

/** {@code --batch}: training batch size, with each command's own default. */
public final class BatchOption {
    @Option(names = "--batch", converter = Numbers.PositiveInt.class, description = "batch size (default ${DEFAULT-VALUE})")
    private int batch;

    public BatchOption(int defaultBatch) {
        this.batch = defaultBatch;
    }

    public int batch() {
        return batch;
    }
}
