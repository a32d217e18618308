package dev.dit4j.examples.options;

import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.train.DiffusionTrainer;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --resume}: continue a training run from its checkpoint, data position included. */
public final class ResumeOption {
    @Option(names = "--resume", description = "resume from this checkpoint")
    private Path resume;

    /** The checkpoint, or null when --resume was not given: what {@code TrainingLoop.Builder.resume} takes. */
    public Path file() {
        return resume;
    }

    /**
     * Checks, before a command does any other work, that the checkpoint resumes a trainer of
     * {@code model} ({@link DiffusionTrainer#checkResumable}) and holds the data loader's
     * position. Does nothing when --resume was not given.
     */
    public void check(DiffusionModel<?> model) {
        if (resume == null) return;
        Map<String, String> meta = DiffusionTrainer.checkResumable(resume, model);
        BatchLoader.State.decode(meta.get("loader"), "checkpoint " + resume);
    }
}
