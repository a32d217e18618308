package dev.dit4j.models.sampling;

import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;

/** Turns noise into samples by running a denoiser over a schedule of timesteps. */
public interface Sampler extends AutoCloseable {
    /** Samples starting from {@code noise} (consumed as the initial x_T); randomness from {@code gen}. */
    Tensor sample(Denoiser model, Tensor noise, Generator gen);

    /** Number of network evaluations per sample. */
    int steps();

    /** Frees what the sampler keeps on devices (schedule tables); by default nothing. */
    @Override
    default void close() {}
}
