package dev.dit4j.models.train;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * U-ViT's discrete-time objective (its train_ldm_discrete / train_t2i_discrete): n uniform over
 * 1..T, x_n = sqrt(abar_n) x0 + sqrt(1 - abar_n) eps with abar_n the product of the first n
 * alphas, the network called with n itself (1..1000, not 0..999), loss mean((eps - eps_hat)^2).
 */
public final class NoisePredictionObjective implements TrainingObjective {
    private final GaussianDiffusion process;

    /** Over the given betas; U-ViT uses {@link GaussianDiffusion#stableDiffusionBetas}(1000). */
    public NoisePredictionObjective(double[] betas) {
        this.process = GaussianDiffusion.fromBetas(betas);
    }

    public static NoisePredictionObjective uvit() {
        return new NoisePredictionObjective(GaussianDiffusion.stableDiffusionBetas(1000));
    }

    @Override
    public Tensor losses(Denoiser net, Tensor x0, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            long n = x0.size(0);
            // step index i = n - 1 addresses abar_n in the 0-based tables
            Tensor index = Tensor.randint(0, process.numTimesteps(), new long[] {n}, x0.device(), gen);
            Tensor noise = Tensor.randn(x0.shape(), x0.dtype(), x0.device(), gen);
            Tensor xn = process.qSample(x0, index, noise);
            Tensor out = net.apply(xn, index.add(1).to(DType.FLOAT32));
            if (out.size(1) != x0.size(1))
                throw new IllegalArgumentException("noise prediction expects " + x0.size(1) + " output channels, the network gave " + out.size(1));
            return s.keep(GaussianDiffusion.meanFlat(noise.sub(out).square()));
        }
    }

    @Override
    public void close() {
        process.close();
    }
}
