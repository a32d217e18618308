package dev.dit4j.models.diffusion;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/** Gaussian KL and the discretised-Gaussian image likelihood of ADM (losses.py). */
final class GaussianLikelihood {
    private GaussianLikelihood() {}

    /** KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))), elementwise, in nats. */
    static Tensor normalKl(Tensor mean1, Tensor logvar1, Tensor mean2, Tensor logvar2) {
        try (TensorScope s = TensorScope.open()) {
            Tensor kl = logvar2.sub(logvar1).add(-1).add(logvar1.sub(logvar2).exp())
                    .add(mean1.sub(mean2).square().mul(logvar2.neg().exp())).mul(0.5);
            return s.keep(kl);
        }
    }

    /** The tanh approximation of the standard normal CDF used by the reference. */
    static Tensor approxStandardNormalCdf(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI));
            return s.keep(inner.tanh().add(1).mul(0.5));
        }
    }

    /** log-likelihood of x in [-1, 1] quantised to 256 bins under N(means, exp(logScales)^2). */
    static Tensor discretizedGaussianLogLikelihood(Tensor x, Tensor means, Tensor logScales) {
        try (TensorScope s = TensorScope.open()) {
            Tensor centered = x.sub(means);
            Tensor invStdv = logScales.neg().exp();
            Tensor cdfPlus = approxStandardNormalCdf(invStdv.mul(centered.add(1.0 / 255)));
            Tensor cdfMin = approxStandardNormalCdf(invStdv.mul(centered.sub(1.0 / 255)));
            Tensor logCdfPlus = cdfPlus.clampMin(1e-12).log();
            Tensor logOneMinusCdfMin = cdfMin.rsub(1).clampMin(1e-12).log();
            Tensor logCdfDelta = cdfPlus.sub(cdfMin).clampMin(1e-12).log();
            Tensor inner = Tensor.where(x.gt(0.999), logOneMinusCdfMin, logCdfDelta);
            return s.keep(Tensor.where(x.lt(-0.999), logCdfPlus, inner));
        }
    }
}
