package dev.dit4j.models.sampling;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.CudaGraph;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/**
 * Ancestral DDPM (the reference's p_sample_loop) or DDIM over a respaced Gaussian diffusion with
 * learned variance: steps T-1 .. 0 of the respaced process, the network seeing original timesteps.
 */
public final class GaussianSampler implements Sampler {
    /** Ancestral DDPM, or DDIM (deterministic at eta 0). */
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
                    Tensor next = step(model, x, t, gen);
                    x.close();
                    x = s.keep(next); // lands in the caller's scope, like any result
                }
            }
        }
        return x;
    }

    /**
     * {@link #sample} on a CUDA device with one step captured in a {@link CudaGraph} and replayed
     * for every step: the step's kernels launch without their host work, which is what bounds
     * small batches. Draws from the same distribution as {@link #sample} but not the same numbers
     * for a seed (the warm-up and the capture draw noise too).
     */
    public Tensor sampleWithCudaGraph(Denoiser model, Tensor noise, Generator gen) {
        long n = noise.size(0);
        int last = diffusion.numTimesteps() - 1;
        try (var noGrad = Autograd.noGrad(); TensorScope s = TensorScope.open()) {
            Tensor x = noise.clone(); // the graph's static inputs, refilled before each replay
            Tensor t = Tensor.full(last, new long[] {n}, DType.INT64, noise.device());
            try (CudaGraph graph = CudaGraph.capture(noise.device(), 2, gen == null ? List.of() : List.of(gen),
                    () -> step(model, x, t, gen))) {
                for (int i = last; i >= 0; i--) {
                    t.fill_(i);
                    graph.replay();
                    x.copy_(graph.output());
                }
            }
            return s.keep(x);
        }
    }

    /** x_{t-1} from x_t: the model at the original timesteps, then the DDPM or DDIM update. */
    private Tensor step(Denoiser model, Tensor x, Tensor t, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            Tensor out = model.apply(x, diffusion.modelTimesteps(t));
            return s.keep(kind == Kind.DDPM ? diffusion.pSample(out, x, t, gen) : diffusion.ddimSample(out, x, t, eta, gen));
        }
    }
}
