package dev.dit4j.models.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * A trainer that a {@link TrainingLoop} can drive: it counts its optimisation steps and writes
 * and restores checkpoints of everything a resumed run needs. {@link DiffusionTrainer} and
 * {@link dev.dit4j.models.vae.AutoencoderTrainer} implement it; what one step does (the batch it
 * takes, what it returns) stays each trainer's own and is given to the loop as a {@link TrainingLoop.Step}.
 */
public interface Trainable {
    /** Optimisation steps taken so far, those of the run a checkpoint continues included. */
    long step();

    /**
     * Writes the trainer's state to {@code file} atomically (a crash leaves the previous file),
     * with {@code metadata} added to the file's own. Collective under data parallelism: every
     * rank calls it.
     */
    void save(Path file, Map<String, String> metadata);

    /** Restores what {@link #save} wrote; returns the checkpoint's metadata. */
    Map<String, String> load(Path file);
}
