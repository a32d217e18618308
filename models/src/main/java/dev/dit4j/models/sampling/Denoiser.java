package dev.dit4j.models.sampling;

import dev.dit4j.nn.Tensor;

/** The network as samplers see it: noisy input and network timesteps in, raw model output out. */
@FunctionalInterface
public interface Denoiser {
    Tensor apply(Tensor x, Tensor timesteps);
}
