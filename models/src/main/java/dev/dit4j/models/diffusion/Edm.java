package dev.dit4j.models.diffusion;

import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * EDM's formulation (Karras et al. 2022) as MicroDiT uses it (its model.py): the network F sees
 * c_in x and c_noise = ln(sigma) / 4 and the denoiser is D(x) = c_skip x + c_out F, with
 * c_skip = sd^2 / (sigma^2 + sd^2), c_out = sigma sd / sqrt(sigma^2 + sd^2),
 * c_in = 1 / sqrt(sigma^2 + sd^2); training draws ln(sigma) ~ N(pMean, pStd^2) and weights the
 * squared error by lambda(sigma) = (sigma^2 + sd^2) / (sigma sd)^2.
 */
public record Edm(double sigmaData, double pMean, double pStd) {
    public Edm {
        if (!(sigmaData > 0) || !(pStd > 0)) throw new IllegalArgumentException("need sigma_data > 0 and P_std > 0, got " + sigmaData + ", " + pStd);
    }

    /** MicroDiT at 256 px: sigma_data 0.9, ln(sigma) ~ N(-0.6, 1.2^2). */
    public static Edm microDiT256() {
        return new Edm(0.9, -0.6, 1.2);
    }

    /** MicroDiT at 512 px: sigma_data 0.9, ln(sigma) ~ N(0, 0.6^2). */
    public static Edm microDiT512() {
        return new Edm(0.9, 0, 0.6);
    }

    /** c_in, the network input's scale, for sigma of any shape broadcasting against x. */
    public Tensor cIn(Tensor sigma) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(sigma.square().add(sigmaData * sigmaData).rsqrt());
        }
    }

    /** c_noise = ln(sigma) / 4, the network's time input. */
    public Tensor cNoise(Tensor sigma) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(sigma.log().div(4));
        }
    }

    /** lambda(sigma) = (sigma^2 + sd^2) / (sigma sd)^2. */
    public Tensor lossWeight(Tensor sigma) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(sigma.square().add(sigmaData * sigmaData).div(sigma.mul(sigmaData).square()));
        }
    }

    /**
     * D(x; sigma) = c_skip x + c_out F(c_in x, c_noise) from the raw network output F =
     * {@code out}, sigma [N, 1, 1, 1] (or broadcastable).
     */
    public Tensor precondition(Tensor x, Tensor sigma, Tensor out) {
        try (TensorScope s = TensorScope.open()) {
            Tensor sum = sigma.square().add(sigmaData * sigmaData);
            Tensor cSkip = sum.rdiv(sigmaData * sigmaData);
            Tensor cOut = sigma.mul(sigmaData).div(sum.sqrt());
            return s.keep(x.mul(cSkip).add(out.mul(cOut)));
        }
    }

    /** D(x; sigma) with the network {@code net}: sigma [N] per sample. */
    public Tensor denoise(Denoiser net, Tensor x, Tensor sigma) {
        try (TensorScope s = TensorScope.open()) {
            Tensor col = sigma.reshape(-1, 1, 1, 1);
            Tensor out = net.apply(x.mul(cIn(col)), cNoise(sigma.reshape(-1)));
            return s.keep(precondition(x, col, out));
        }
    }
}
