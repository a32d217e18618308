package dev.dit4j.models.train;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * U-ViT's continuous-time objective (its sde.py, used for CIFAR-10, CelebA, ImageNet-64 and the
 * U-ViT-L latent models): t uniform in [0, 1), the VP-SDE with linear beta(t) = b0 + t (b1 - b0),
 * so abar(t) = exp(-(b0 t + (b1 - b0) t^2 / 2)); the network sees t * 999; loss mean((eps - eps_hat)^2).
 */
public final class VpSdeObjective implements TrainingObjective {
    private final double beta0;
    private final double beta1;

    public VpSdeObjective(double beta0, double beta1) {
        if (!(beta0 > 0 && beta1 > beta0)) throw new IllegalArgumentException("need 0 < beta0 < beta1, got " + beta0 + ", " + beta1);
        this.beta0 = beta0;
        this.beta1 = beta1;
    }

    /** U-ViT's settings: beta from 0.1 to 20. */
    public static VpSdeObjective uvit() {
        return new VpSdeObjective(0.1, 20);
    }

    @Override
    public Tensor losses(Denoiser net, Tensor x0, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            long n = x0.size(0);
            long[] column = new long[x0.dim()];
            java.util.Arrays.fill(column, 1);
            column[0] = n;
            Tensor t = Tensor.rand(new long[] {n}, x0.dtype(), x0.device(), gen);
            Tensor integral = t.mul(beta0).add(t.square().mul((beta1 - beta0) / 2)).reshape(column);
            Tensor abar = integral.neg().exp();
            Tensor noise = Tensor.randn(x0.shape(), x0.dtype(), x0.device(), gen);
            Tensor xt = x0.mul(abar.sqrt()).add(noise.mul(abar.rsub(1).sqrt()));
            Tensor out = net.apply(xt, t.mul(999));
            return s.keep(GaussianDiffusion.meanFlat(noise.sub(out).square()));
        }
    }

    @Override
    public void close() {}
}
