package dev.dit4j.models;

import dev.dit4j.nn.Tensor;

/**
 * What the trainer, the samplers and the examples need from a class-conditional diffusion
 * network (DiT, U-ViT, U-DiT): a forward pass, the authors' own guidance form, and the facts
 * that decide how it is trained. Implementations are {@link dev.dit4j.nn.Module}s.
 */
public interface ClassConditionalModel {
    /** x [N, C, H, W], t [N] network timesteps (float, may be fractional), y [N] int64 labels -> raw output [N, outC, H, W]. */
    Tensor forward(Tensor x, Tensor t, Tensor y);

    /**
     * Guided forward in the authors' form. The batch is [conditional half; unconditional half]
     * (same noise in both halves, y holding the null label in the second half); the result
     * has the batch's shape, guided output written to both halves.
     */
    Tensor forwardWithCfg(Tensor x, Tensor t, Tensor y, double scale);

    /** Number of real classes; label {@code numClasses()} is the null (unconditional) label. */
    int numClasses();

    /** True when the output holds 2C channels: epsilon then the learned-range variance (DiT, U-DiT). */
    boolean learnsSigma();

    /** The model's name and configuration, written to checkpoint metadata. */
    String describe();
}
