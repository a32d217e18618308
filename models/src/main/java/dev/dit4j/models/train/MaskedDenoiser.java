package dev.dit4j.models.train;

import dev.dit4j.nn.Tensor;

/**
 * The network as a training objective sees it: noisy input, network timesteps, and the tokens to
 * keep ({@code keep} [N, K] int64, see MicroDiT's deferred masking; null for all) -> raw output.
 */
@FunctionalInterface
public interface MaskedDenoiser {
    Tensor apply(Tensor x, Tensor timesteps, Tensor keep);
}
