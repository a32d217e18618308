package dev.dit4j.models.sampling;

import dev.dit4j.models.diffusion.GaussianDiffusion;

/**
 * A variance-preserving forward process seen in continuous time t in (0, 1]:
 * q(x_t | x_0) = N(alpha_t x_0, sigma_t^2 I), lambda_t = log(alpha_t / sigma_t) (half log-SNR).
 *
 * <p>Two kinds, as DPM-Solver's NoiseScheduleVP: {@code discrete}, for models trained on N steps,
 * where step n (0-based) sits at t_n = (n + 1) / N and log alpha is interpolated piecewise-linearly
 * between those knots (extended linearly beyond them); and the continuous {@code linear} VP-SDE
 * with beta(t) = beta_0 + t (beta_1 - beta_0). All arithmetic is in double; every sample of a
 * batch shares its time, so the schedule deals in scalars.
 */
public final class NoiseScheduleVP {
    /** Below this half log-SNR the end of a discrete table is dropped, as the reference does for cosine-like schedules. */
    private static final double CLIPPED_LAMBDA = -5.1;

    private final boolean discrete;
    private final double[] tKnots;
    private final double[] logAlphaKnots;
    private final double beta0;
    private final double beta1;

    private NoiseScheduleVP(boolean discrete, double[] tKnots, double[] logAlphaKnots, double beta0, double beta1) {
        this.discrete = discrete;
        this.tKnots = tKnots;
        this.logAlphaKnots = logAlphaKnots;
        this.beta0 = beta0;
        this.beta1 = beta1;
    }

    /** Discrete schedule from the DDPM table {@code abar_n = prod_{i<=n} (1 - beta_i)}, n = 0 .. N-1. */
    public static NoiseScheduleVP discrete(double[] alphasCumprod) {
        if (alphasCumprod.length < 2) throw new IllegalArgumentException("a discrete schedule needs at least 2 steps, got " + alphasCumprod.length);
        double[] logAlphas = new double[alphasCumprod.length];
        for (int i = 0; i < logAlphas.length; i++) {
            double a = alphasCumprod[i];
            if (!(a > 0 && a < 1)) throw new IllegalArgumentException("alphas_cumprod[" + i + "] = " + a + " is outside (0, 1)");
            if (i > 0 && a > alphasCumprod[i - 1]) throw new IllegalArgumentException("alphas_cumprod must not increase (at " + i + ")");
            logAlphas[i] = 0.5 * Math.log(a);
        }
        return fromLogAlphas(logAlphas);
    }

    /** Discrete schedule from betas: {@code log alpha_n = 0.5 * sum_{i<=n} log(1 - beta_i)}, as the reference computes it. */
    public static NoiseScheduleVP discreteFromBetas(double[] betas) {
        if (betas.length < 2) throw new IllegalArgumentException("a discrete schedule needs at least 2 steps, got " + betas.length);
        double[] logAlphas = new double[betas.length];
        double cum = 0;
        for (int i = 0; i < betas.length; i++) {
            if (!(betas[i] > 0 && betas[i] < 1)) throw new IllegalArgumentException("beta[" + i + "] = " + betas[i] + " is outside (0, 1)");
            cum += Math.log(1 - betas[i]);
            logAlphas[i] = 0.5 * cum;
        }
        return fromLogAlphas(logAlphas);
    }

    private static NoiseScheduleVP fromLogAlphas(double[] logAlphas) {
        // Drop the tail whose lambda is below CLIPPED_LAMBDA; the knots are then respread over (0, 1].
        int below = 0;
        for (double la : logAlphas) if (la - 0.5 * Math.log(1 - Math.exp(2 * la)) < CLIPPED_LAMBDA) below++;
        int n = logAlphas.length - below;
        double[] kept = java.util.Arrays.copyOf(logAlphas, n);
        double[] t = new double[n];
        for (int i = 0; i < n; i++) t[i] = (i + 1) / (double) n;
        return new NoiseScheduleVP(true, t, kept, 0, 0);
    }

    /** The continuous linear VP-SDE with beta(t) = beta0 + t (beta1 - beta0). */
    public static NoiseScheduleVP linear(double beta0, double beta1) {
        if (!(beta0 > 0 && beta1 > beta0)) throw new IllegalArgumentException("need 0 < beta0 < beta1, got " + beta0 + ", " + beta1);
        return new NoiseScheduleVP(false, null, null, beta0, beta1);
    }

    /** The score-SDE default linear VP-SDE (beta 0.1 to 20), which U-ViT's continuous-time models use. */
    public static NoiseScheduleVP linear() {
        return linear(0.1, 20);
    }

    /** DiT's (and U-DiT's) 1000-step linear betas 1e-4 .. 0.02. */
    public static NoiseScheduleVP ditLinear() {
        return discreteFromBetas(GaussianDiffusion.linearBetas(1000));
    }

    /** The Stable Diffusion schedule U-ViT's discrete latent models use: betas = linspace(sqrt 0.00085, sqrt 0.012, 1000)^2. */
    public static NoiseScheduleVP stableDiffusion() {
        return discreteFromBetas(GaussianDiffusion.stableDiffusionBetas(1000));
    }

    public boolean isDiscrete() {
        return discrete;
    }

    /** Number of discrete steps (after clipping); 1000 for the continuous schedule, as the reference assumes. */
    public int totalN() {
        return discrete ? tKnots.length : 1000;
    }

    /** The start of the reverse process (always 1). */
    public double tMax() {
        return 1.0;
    }

    /** log alpha_t. */
    public double marginalLogMeanCoeff(double t) {
        if (discrete) return interpolate(t, tKnots, logAlphaKnots, false);
        return -0.25 * t * t * (beta1 - beta0) - 0.5 * t * beta0;
    }

    public double marginalAlpha(double t) {
        return Math.exp(marginalLogMeanCoeff(t));
    }

    /** sigma_t = sqrt(1 - alpha_t^2). */
    public double marginalStd(double t) {
        return Math.sqrt(1 - Math.exp(2 * marginalLogMeanCoeff(t)));
    }

    /** lambda_t = log alpha_t - log sigma_t. */
    public double marginalLambda(double t) {
        double lmc = marginalLogMeanCoeff(t);
        return lmc - 0.5 * Math.log(1 - Math.exp(2 * lmc));
    }

    /** The t with marginalLambda(t) = lambda. */
    public double inverseLambda(double lambda) {
        if (discrete) {
            double logAlpha = -0.5 * logAddExp(0, -2 * lambda);
            return interpolate(logAlpha, logAlphaKnots, tKnots, true);
        }
        double tmp = 2 * (beta1 - beta0) * logAddExp(-2 * lambda, 0);
        double delta = beta0 * beta0 + tmp;
        return tmp / (Math.sqrt(delta) + beta0) / (beta1 - beta0);
    }

    private static double logAddExp(double a, double b) {
        double m = Math.max(a, b);
        return m + Math.log1p(Math.exp(-Math.abs(a - b)));
    }

    /**
     * Piecewise-linear y(x) through the knots, extended beyond the ends by the outermost segments
     * (the reference's interpolate_fn). {@code reversed}: xs are stored descending and read backwards.
     */
    private static double interpolate(double x, double[] xs, double[] ys, boolean reversed) {
        int k = xs.length;
        // knot i in ascending order
        java.util.function.IntToDoubleFunction xp = reversed ? i -> xs[k - 1 - i] : i -> xs[i];
        java.util.function.IntToDoubleFunction yp = reversed ? i -> ys[k - 1 - i] : i -> ys[i];
        int lo = 0, hi = k - 1; // find the segment [j, j + 1] holding x, clamped to the end segments
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (xp.applyAsDouble(mid) <= x) lo = mid;
            else hi = mid;
        }
        double x0 = xp.applyAsDouble(lo), x1 = xp.applyAsDouble(lo + 1);
        double y0 = yp.applyAsDouble(lo), y1 = yp.applyAsDouble(lo + 1);
        return y0 + (x - x0) * (y1 - y0) / (x1 - x0);
    }
}
