package dev.dit4j.models.vae;

import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * The encoder's posterior: a diagonal Gaussian whose mean and log-variance are the two halves of
 * the moments [N, 2z, h, w] along channels, the log-variance clamped to [-30, 20] as the
 * references do. Latents drawn or taken from it are unscaled (multiply by the autoencoder's
 * scaling factor before diffusion). Owns its moments; close it.
 */
public final class DiagonalGaussian implements AutoCloseable {
    private final Tensor moments;

    /** Takes ownership of {@code moments} [N, 2z, h, w]. */
    public DiagonalGaussian(Tensor moments) {
        if (moments.dim() != 4 || moments.size(1) % 2 != 0) {
            throw new IllegalArgumentException("moments must be [N, 2z, h, w], got " + java.util.Arrays.toString(moments.shape()));
        }
        this.moments = TensorScope.release(moments);
    }

    /** The raw moments [N, 2z, h, w] (the quant_conv output), still owned by this object. */
    public Tensor moments() {
        return moments;
    }

    private long z() {
        return moments.size(1) / 2;
    }

    /** The mean [N, z, h, w] (the deterministic latent). */
    public Tensor mean() {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(moments.narrow(1, 0, z()).contiguous());
        }
    }

    /** The log-variance clamped to [-30, 20]. */
    public Tensor logvar() {
        return moments.narrow(1, z(), z()).clamp(-30, 20);
    }

    /** mean + std * eps with eps one randn of the mean's shape from {@code gen} (as randn_like in the references). */
    public Tensor sample(Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            Tensor mean = moments.narrow(1, 0, z());
            Tensor std = logvar().mul(0.5).exp();
            Tensor eps = Tensor.randn(mean.shape(), mean.dtype(), mean.device(), gen);
            return s.keep(eps.mul_(std).add_(mean));
        }
    }

    /** KL divergence to N(0, I) per sample [N]: 0.5 sum(mean^2 + var - 1 - logvar). */
    public Tensor kl() {
        try (TensorScope s = TensorScope.open()) {
            Tensor mean = moments.narrow(1, 0, z());
            Tensor logvar = logvar();
            return s.keep(mean.square().add(logvar.exp()).sub(1).sub(logvar).sum(new long[] {1, 2, 3}, false).mul(0.5));
        }
    }

    @Override
    public void close() {
        moments.close();
    }
}
