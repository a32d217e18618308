package dev.dit4j.models.train;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * The ADM objective of DiT and U-DiT (identical diffusion code): t uniform over the 1000-step
 * linear schedule, q_sample with fresh noise, the hybrid MSE + VLB loss when the network learns
 * its variance, plain noise MSE when it does not.
 */
public final class AdmObjective implements TrainingObjective {
    private final GaussianDiffusion diffusion = GaussianDiffusion.linear(1000);

    @Override
    public Tensor losses(Denoiser net, Tensor x0, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            long n = x0.size(0);
            Tensor t = Tensor.randint(0, diffusion.numTimesteps(), new long[] {n}, x0.device(), gen);
            Tensor noise = Tensor.randn(x0.shape(), x0.dtype(), x0.device(), gen);
            Tensor xt = diffusion.qSample(x0, t, noise);
            Tensor out = net.apply(xt, t.to(DType.FLOAT32));
            if (out.size(1) == x0.size(1)) return s.keep(GaussianDiffusion.meanFlat(noise.sub(out).square()));
            return s.keep(diffusion.trainingLosses(out, x0, xt, t, noise).loss());
        }
    }

    @Override
    public void close() {
        diffusion.close();
    }
}
