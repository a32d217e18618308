package dev.dit4j.models.train;

import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.microdit.TokenMask;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * MicroDiT's EDM loss (its model.py edm_loss): ln(sigma) ~ N(pMean, pStd^2) per sample, x + sigma n
 * denoised by D = c_skip x + c_out F, loss lambda(sigma) (D - x0)^2. Unmasked: the mean over all
 * elements. With a mask ratio, a random int(T (1 - r)) of the T patches per sample run past the
 * patch mixer, and the loss is the mean over channels, averaged over each p x p patch, then over
 * the kept patches only.
 */
public final class EdmObjective implements TrainingObjective {
    private final Edm edm;
    private final double maskRatio;
    private final int patch;

    public EdmObjective(Edm edm, double maskRatio, int patch) {
        if (!(maskRatio >= 0 && maskRatio < 1)) throw new IllegalArgumentException("mask ratio must lie in [0, 1), got " + maskRatio);
        if (patch < 1) throw new IllegalArgumentException("patch must be positive, got " + patch);
        this.edm = edm;
        this.maskRatio = maskRatio;
        this.patch = patch;
    }

    /** The loss without masking. */
    @Override
    public Tensor losses(Denoiser net, Tensor x0, Generator gen) {
        return losses((x, t, keep) -> net.apply(x, t), x0, gen);
    }

    @Override
    public Tensor losses(MaskedDenoiser net, Tensor x0, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            long n = x0.size(0);
            Tensor rndNormal = Tensor.randn(new long[] {n}, x0.dtype(), x0.device(), gen);
            Tensor noise = Tensor.randn(x0.shape(), x0.dtype(), x0.device(), gen);
            Tensor keep = maskRatio > 0 ? TokenMask.random(n, tokens(x0), maskRatio, x0.device(), gen) : null;
            return s.keep(losses(net, x0, rndNormal, noise, keep));
        }
    }

    /** Per-sample losses [N] on given draws: rndNormal [N] ~ N(0, 1), noise like x0, keep [N, K] or null. */
    public Tensor losses(MaskedDenoiser net, Tensor x0, Tensor rndNormal, Tensor noise, Tensor keep) {
        try (TensorScope s = TensorScope.open()) {
            Tensor sigma = rndNormal.mul(edm.pStd()).add(edm.pMean()).exp().reshape(-1, 1, 1, 1);
            Tensor xn = x0.add(noise.mul(sigma));
            Tensor out = net.apply(xn.mul(edm.cIn(sigma)), edm.cNoise(sigma.reshape(-1)), keep);
            Tensor loss = edm.lossWeight(sigma).mul(edm.precondition(xn, sigma, out).sub(x0).square());
            if (keep == null) return s.keep(loss.mean(new long[] {1, 2, 3}, false));
            Tensor perPatch = Functional.avgPool2d(loss.mean(1, true), patch, patch).flatten(1, 3); // [N, T]
            return s.keep(perPatch.gather(1, keep).mean(1, false));
        }
    }

    private long tokens(Tensor x0) {
        if (x0.size(2) % patch != 0 || x0.size(3) % patch != 0) {
            throw new IllegalArgumentException("latents " + x0.size(2) + "x" + x0.size(3) + " do not split into " + patch + "x" + patch + " patches");
        }
        return (x0.size(2) / patch) * (x0.size(3) / patch);
    }

    @Override
    public void close() {}
}
