package dev.dit4j.models.sampling;

import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * EDM's stochastic sampler (Karras et al. 2022, Algorithm 2) as MicroDiT's edm_sampler_loop: the
 * sigmas {@code (sigma_max^(1/rho) + i/(n-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho}, {@code i < n}, then 0;
 * x starts at the noise times sigma_max in float64; each step optionally raises sigma by
 * gamma = min(S_churn / n, sqrt 2 - 1) (within [S_min, S_max]), takes an Euler step with the
 * denoiser run in float32, and (Heun) corrects it with a second evaluation on all but the last
 * step. The denoiser is the raw network (guided or not): F(c_in x, ln(sigma) / 4).
 */
public final class EdmSampler implements Sampler {
    /** Sampler settings; {@link #microDiT} gives the authors'. */
    public record Options(int steps, double sigmaMin, double sigmaMax, double rho, boolean heun, double sChurn, double sMin, double sMax,
                          double sNoise) {
        public Options {
            if (steps < 1) throw new IllegalArgumentException("EDM sampling needs at least 1 step, got " + steps);
            if (!(sigmaMin > 0 && sigmaMax > sigmaMin && rho > 0 && sChurn >= 0)) {
                throw new IllegalArgumentException("need 0 < sigma_min < sigma_max, rho > 0, S_churn >= 0; got " + this);
            }
        }

        /** The deterministic Heun sampler: sigma in [0.002, 80], rho 7, S_churn 0. */
        public static Options microDiT(int steps) {
            return new Options(steps, 0.002, 80, 7, true, 0, 0, Double.POSITIVE_INFINITY, 1);
        }

        /** First-order steps only (one evaluation a step). */
        public Options euler() {
            return new Options(steps, sigmaMin, sigmaMax, rho, false, sChurn, sMin, sMax, sNoise);
        }

        /** Stochastic steps with S_churn (noise re-injected within [sMin, sMax]). */
        public Options churn(double churn, double min, double max, double noise) {
            return new Options(steps, sigmaMin, sigmaMax, rho, heun, churn, min, max, noise);
        }
    }

    /** MicroDiT's generate() default: 30 Heun steps. */
    public static final int DEFAULT_STEPS = 30;
    /** MicroDiT's default guidance weight. */
    public static final double DEFAULT_GUIDANCE = 5.0;

    private final Edm edm;
    private final Options options;

    public EdmSampler(Edm edm, Options options) {
        this.edm = edm;
        this.options = options;
    }

    /** MicroDiT's sampler: Heun, {@code steps} steps, sigma_data 0.9. */
    public static EdmSampler microDiT(int steps) {
        return new EdmSampler(Edm.microDiT256(), Options.microDiT(steps));
    }

    /** The n + 1 noise levels, the last 0. */
    public double[] sigmas() {
        int n = options.steps();
        double[] t = new double[n + 1];
        double hi = Math.pow(options.sigmaMax(), 1 / options.rho()), lo = Math.pow(options.sigmaMin(), 1 / options.rho());
        for (int i = 0; i < n; i++) t[i] = Math.pow(hi + (n == 1 ? 0 : (double) i / (n - 1)) * (lo - hi), options.rho());
        return t;
    }

    @Override
    public int steps() {
        return options.heun() ? 2 * options.steps() - 1 : options.steps();
    }

    @Override
    public Tensor sample(Denoiser model, Tensor noise, Generator gen) {
        double[] t = sigmas();
        int n = options.steps();
        try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
            Tensor x = noise.to(DType.FLOAT64).mul(t[0]);
            for (int i = 0; i < n; i++) {
                try (TensorScope step = TensorScope.open()) {
                    double cur = t[i], next = t[i + 1];
                    boolean churned = options.sMin() <= cur && cur <= options.sMax();
                    double gamma = churned ? Math.min(options.sChurn() / n, Math.sqrt(2) - 1) : 0;
                    double hat = cur + gamma * cur;
                    Tensor xHat = gamma > 0
                            ? x.add(Tensor.randn(x.shape(), DType.FLOAT64, x.device(), gen).mul(Math.sqrt(hat * hat - cur * cur) * options.sNoise()))
                            : x;
                    Tensor dCur = xHat.sub(denoise(model, xHat, hat)).div(hat);
                    Tensor xNext = xHat.add(dCur.mul(next - hat));
                    if (options.heun() && i < n - 1) {
                        Tensor dPrime = xNext.sub(denoise(model, xNext, next)).div(next);
                        xNext = xHat.add(dCur.mul(0.5).add(dPrime.mul(0.5)).mul(next - hat));
                    }
                    x = step.keep(xNext);
                }
            }
            return s.keep(x.to(DType.FLOAT32));
        }
    }

    /** D(x; sigma) in float32 as the authors' wrapper runs it, back in float64. */
    private Tensor denoise(Denoiser model, Tensor x, double sigma) {
        try (TensorScope s = TensorScope.open()) {
            Tensor x32 = x.to(DType.FLOAT32);
            Tensor sig = Tensor.full(sigma, new long[] {x.size(0)}, DType.FLOAT32, x.device());
            return s.keep(edm.denoise(model, x32, sig).to(DType.FLOAT64));
        }
    }
}
