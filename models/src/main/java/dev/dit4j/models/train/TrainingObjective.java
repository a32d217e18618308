package dev.dit4j.models.train;

import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;

/**
 * How a diffusion model is trained: draws timesteps and noise, corrupts the clean batch, runs the
 * network and scores its output. Each architecture's authors fix their own (DiT and U-DiT: the
 * ADM hybrid loss; U-ViT: noise-prediction MSE on Stable Diffusion's discrete schedule).
 */
public interface TrainingObjective extends AutoCloseable {
    /**
     * Per-sample losses [N] for clean inputs x0 [N, C, H, W]; {@code net} maps (x_t, network
     * timesteps) to the raw output, with the labels already bound. Randomness comes from {@code gen}.
     */
    Tensor losses(Denoiser net, Tensor x0, Generator gen);

    /**
     * The same with the network's masked form, which the trainer always offers: objectives that
     * train on a subset of tokens (MicroDiT's deferred masking) override this; the others run
     * every token.
     */
    default Tensor losses(MaskedDenoiser net, Tensor x0, Generator gen) {
        return losses((x, t) -> net.apply(x, t, null), x0, gen);
    }

    /** Frees device-side schedule tables. */
    @Override
    void close();
}
