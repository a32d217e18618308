package dev.dit4j.models.sampling;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * Ancestral DDPM (the reference's p_sample_loop) or DDIM over a respaced Gaussian diffusion with
 * learned variance: steps T-1 .. 0 of the respaced process, the network seeing original timesteps.
 */
public final class GaussianSampler implements Sampler {
    public enum Kind { DDPM, DDIM }

    private final GaussianDiffusion diffusion;
    private final Kind kind;
    private final double eta;

    private GaussianSampler(GaussianDiffusion diffusion, Kind kind, double eta) {
        this.diffusion = diffusion;
        this.kind = kind;
        this.eta = eta;
    }

    /** DDPM over {@code steps} respaced steps of the 1000-step linear schedule (DiT: 250). */
    public static GaussianSampler ddpm(int steps) {
        return new GaussianSampler(GaussianDiffusion.respaced(1000, Integer.toString(steps)), Kind.DDPM, 0);
    }

    /** DDIM with eta over {@code steps} evenly strided steps (the reference's "ddimN"). */
    public static GaussianSampler ddim(int steps, double eta) {
        return new GaussianSampler(GaussianDiffusion.respaced(1000, "ddim" + steps), Kind.DDIM, eta);
    }

    @Override
    public void close() {
        diffusion.close();
    }

    @Override
    public int steps() {
        return diffusion.numTimesteps();
    }

    @Override
    public Tensor sample(Denoiser model, Tensor noise, Generator gen) {
        Tensor x = noise.clone();
        long n = noise.size(0);
        try (var noGrad = Autograd.noGrad()) {
            for (int i = diffusion.numTimesteps() - 1; i >= 0; i--) {
                try (TensorScope s = TensorScope.open()) {
                    Tensor t = Tensor.full(i, new long[] {n}, DType.INT64, noise.device());
                    Tensor out = model.apply(x, diffusion.modelTimesteps(t));
                    Tensor next = kind == Kind.DDPM ? diffusion.pSample(out, x, t, gen) : diffusion.ddimSample(out, x, t, eta, gen);
                    x.close();
                    x = s.keep(next); // lands in the caller's scope, like any result
                }
            }
        }
        return x;
    }
}
