package dev.dit4j.examples.options;

import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.train.DiffusionTrainer;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --resume}: continue a training run from its checkpoint, data position included. */
public final class ResumeOption {
    @Option(names = "--resume", description = "resume from this checkpoint")
    private Path resume;

    /**
     * Loads the checkpoint into {@code trainer} and returns the data loader's saved position, or
     * returns null (start from the beginning) when --resume was not given.
     */
    public BatchLoader.State restore(DiffusionTrainer<?> trainer) {
        return resume == null ? null : BatchLoader.State.decode(trainer.load(resume).get("loader"), resume);
    }
}
