package dev.dit4j.models.diffusion;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/**
 * The ADM Gaussian diffusion used by DiT and U-DiT: linear betas, learned-range variance
 * (model output = [eps | v], C channels each), the hybrid MSE + VLB loss with the mean path
 * detached, and respaced DDPM / DDIM sampling. Schedules are kept in float64 as the reference
 * keeps them in numpy, and gathered per sample as float32.
 */
public final class GaussianDiffusion implements AutoCloseable {
    private final double[] betas;
    private final double[] alphasCumprod;
    private final double[] alphasCumprodPrev;
    private final double[] sqrtAlphasCumprod;
    private final double[] sqrtOneMinusAlphasCumprod;
    private final double[] sqrtRecipAlphasCumprod;
    private final double[] sqrtRecipm1AlphasCumprod;
    private final double[] posteriorVariance;
    private final double[] posteriorLogVarianceClipped;
    private final double[] posteriorMeanCoef1;
    private final double[] posteriorMeanCoef2;
    private final double[] logBetas;
    /** Network timestep for each step of this (possibly respaced) process. */
    private final double[] timestepMap;
    /** The arrays {@link #extract} gathers from, in the row order of the device tables. */
    private final double[][] coefficients;
    private final java.util.Map<Device, Tensor> tables = new java.util.HashMap<>();
    private boolean closed;

    private GaussianDiffusion(double[] betas, int[] timestepMap) {
        int n = betas.length;
        this.betas = betas;
        this.timestepMap = java.util.Arrays.stream(timestepMap).asDoubleStream().toArray(); // a row of the device table
        alphasCumprod = new double[n];
        double prod = 1;
        for (int i = 0; i < n; i++) alphasCumprod[i] = prod *= 1 - betas[i];
        alphasCumprodPrev = new double[n];
        sqrtAlphasCumprod = new double[n];
        sqrtOneMinusAlphasCumprod = new double[n];
        sqrtRecipAlphasCumprod = new double[n];
        sqrtRecipm1AlphasCumprod = new double[n];
        posteriorVariance = new double[n];
        posteriorLogVarianceClipped = new double[n];
        posteriorMeanCoef1 = new double[n];
        posteriorMeanCoef2 = new double[n];
        logBetas = new double[n];
        for (int i = 0; i < n; i++) {
            double ac = alphasCumprod[i];
            double prev = i == 0 ? 1 : alphasCumprod[i - 1];
            alphasCumprodPrev[i] = prev;
            sqrtAlphasCumprod[i] = Math.sqrt(ac);
            sqrtOneMinusAlphasCumprod[i] = Math.sqrt(1 - ac);
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1 / ac - 1);
            posteriorVariance[i] = betas[i] * (1 - prev) / (1 - ac);
            posteriorMeanCoef1[i] = betas[i] * Math.sqrt(prev) / (1 - ac);
            posteriorMeanCoef2[i] = (1 - prev) * Math.sqrt(1 - betas[i]) / (1 - ac);
            logBetas[i] = Math.log(betas[i]);
        }
        // log of the posterior variance with the t = 0 entry (zero) replaced by the t = 1 entry
        for (int i = 0; i < n; i++) {
            posteriorLogVarianceClipped[i] = Math.log(n > 1 && i == 0 ? posteriorVariance[1] : posteriorVariance[i]);
        }
        coefficients = new double[][] {betas, alphasCumprod, alphasCumprodPrev, sqrtAlphasCumprod, sqrtOneMinusAlphasCumprod,
                sqrtRecipAlphasCumprod, sqrtRecipm1AlphasCumprod, posteriorVariance, posteriorLogVarianceClipped,
                posteriorMeanCoef1, posteriorMeanCoef2, logBetas, this.timestepMap};
    }

    /** Linear betas from 1e-4 to 0.02 (scaled by 1000/T) over T steps, in float64. */
    public static double[] linearBetas(int steps) {
        double scale = 1000.0 / steps;
        double start = scale * 0.0001, end = scale * 0.02;
        double[] b = new double[steps];
        for (int i = 0; i < steps; i++) b[i] = steps == 1 ? start : start + (end - start) * i / (steps - 1);
        return b;
    }

    /**
     * Stable Diffusion's "scaled linear" betas, (linspace(sqrt(0.00085), sqrt(0.012), T))^2 in
     * float64: the discrete schedule of U-ViT's latent and text-to-image models.
     */
    public static double[] stableDiffusionBetas(int steps) {
        double[] betas = Linspace.of(Math.sqrt(0.00085), Math.sqrt(0.012), steps); // torch.linspace, element for element
        for (int i = 0; i < steps; i++) betas[i] *= betas[i];
        return betas;
    }

    /** A process over the given betas (one per step), the network seeing step indices 0..T-1. */
    public static GaussianDiffusion fromBetas(double[] betas) {
        int[] map = new int[betas.length];
        for (int i = 0; i < map.length; i++) map[i] = i;
        return new GaussianDiffusion(betas.clone(), map);
    }

    /** The full 1000-step process. */
    public static GaussianDiffusion linear(int steps) {
        int[] map = new int[steps];
        for (int i = 0; i < steps; i++) map[i] = i;
        return new GaussianDiffusion(linearBetas(steps), map);
    }

    /** The process respaced to the given timesteps (see {@link Respacing}); the net still sees original t. */
    public static GaussianDiffusion respaced(int steps, String spec) {
        GaussianDiffusion base = linear(steps);
        List<Integer> keep = Respacing.timesteps(steps, spec);
        double[] newBetas = new double[keep.size()];
        int[] map = new int[keep.size()];
        double last = 1;
        int j = 0;
        for (int i = 0; i < steps; i++) {
            if (j < keep.size() && keep.get(j) == i) {
                newBetas[j] = 1 - base.alphasCumprod[i] / last;
                last = base.alphasCumprod[i];
                map[j++] = i;
            }
        }
        return new GaussianDiffusion(newBetas, map);
    }

    public int numTimesteps() {
        return betas.length;
    }

    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    public int[] timestepMap() {
        return java.util.Arrays.stream(timestepMap).mapToInt(v -> (int) v).toArray();
    }

    /**
     * arr[t] per sample as float32 [N, 1, 1, ...] broadcastable against a tensor of rank
     * {@code rank}: gathered on the device from the cached table, so no host sync.
     */
    Tensor extract(double[] arr, Tensor t, int rank, Device device) {
        long[] shape = new long[rank];
        java.util.Arrays.fill(shape, 1);
        shape[0] = t.size(0);
        try (TensorScope s = TensorScope.open()) {
            Tensor row = table(device).select(0, rowOf(arr));
            return s.keep(row.indexSelect(0, t.to(device, DType.INT64)).reshape(shape));
        }
    }

    private int rowOf(double[] arr) {
        for (int i = 0; i < coefficients.length; i++) if (coefficients[i] == arr) return i;
        throw new IllegalStateException("not a coefficient table of this process");
    }

    /** Every coefficient (and the timestep map) as one float32 [K, T] tensor on {@code device}, made once. */
    private Tensor table(Device device) {
        synchronized (tables) {
            if (closed) throw new IllegalStateException("this GaussianDiffusion is closed");
            return tables.computeIfAbsent(device, d -> {
                int n = betas.length;
                float[] flat = new float[coefficients.length * n];
                for (int r = 0; r < coefficients.length; r++)
                    for (int i = 0; i < n; i++) flat[r * n + i] = (float) coefficients[r][i];
                try (Tensor host = Tensor.of(flat, coefficients.length, n)) {
                    return TensorScope.release(host.to(d));
                }
            });
        }
    }

    /** Frees the per-device coefficient tables; the process cannot be used afterwards. */
    @Override
    public void close() {
        synchronized (tables) {
            closed = true;
            tables.values().forEach(Tensor::close);
            tables.clear();
        }
    }

    /** x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise. */
    public Tensor qSample(Tensor x0, Tensor t, Tensor noise) {
        try (TensorScope s = TensorScope.open()) {
            int r = x0.dim();
            Tensor a = extract(sqrtAlphasCumprod, t, r, x0.device());
            Tensor b = extract(sqrtOneMinusAlphasCumprod, t, r, x0.device());
            return s.keep(x0.mul(a).add(noise.mul(b)));
        }
    }

    /** The network's timestep input for process steps t (identity unless respaced), float32. */
    public Tensor modelTimesteps(Tensor t) {
        return extract(timestepMap, t, 1, t.device());
    }

    /** Mean, variance, log variance and predicted x0 of p(x_{t-1} | x_t) from the model's output. */
    public record MeanVariance(Tensor mean, Tensor logVariance, Tensor predXStart) implements AutoCloseable {
        @Override
        public void close() {
            mean.close();
            logVariance.close();
            predXStart.close();
        }
    }

    /** For a learned-range output [eps | v] of 2C channels (C = x's channels). */
    public MeanVariance pMeanVariance(Tensor modelOutput, Tensor x, Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            long c = x.size(1);
            if (modelOutput.size(1) != 2 * c) {
                throw new IllegalArgumentException("learned-sigma output needs " + 2 * c + " channels, got " + modelOutput.size(1));
            }
            int r = x.dim();
            Device d = x.device();
            Tensor eps = modelOutput.narrow(1, 0, c);
            Tensor v = modelOutput.narrow(1, c, c);
            Tensor minLog = extract(posteriorLogVarianceClipped, t, r, d);
            Tensor maxLog = extract(logBetas, t, r, d);
            Tensor frac = v.add(1).div(2);
            Tensor logVar = frac.mul(maxLog).add(frac.rsub(1).mul(minLog));
            Tensor predX0 = x.mul(extract(sqrtRecipAlphasCumprod, t, r, d)).sub(eps.mul(extract(sqrtRecipm1AlphasCumprod, t, r, d)));
            Tensor mean = posteriorMean(predX0, x, t);
            return new MeanVariance(s.keep(mean), s.keep(logVar), s.keep(predX0));
        }
    }

    /** Mean of q(x_{t-1} | x_t, x0). */
    public Tensor posteriorMean(Tensor x0, Tensor xt, Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            int r = xt.dim();
            Tensor m = x0.mul(extract(posteriorMeanCoef1, t, r, xt.device())).add(xt.mul(extract(posteriorMeanCoef2, t, r, xt.device())));
            return s.keep(m);
        }
    }

    /** log of the (clipped) variance of q(x_{t-1} | x_t, x0). */
    public Tensor posteriorLogVariance(Tensor t, int rank, Device device) {
        return extract(posteriorLogVarianceClipped, t, rank, device);
    }

    /** One ancestral DDPM step; no noise is added at t = 0. */
    public Tensor pSample(Tensor modelOutput, Tensor x, Tensor t, Generator gen) {
        try (Tensor noise = Tensor.randn(x.shape(), x.dtype(), x.device(), gen)) {
            return pSample(modelOutput, x, t, noise);
        }
    }

    /** One ancestral DDPM step with the given standard-normal noise. */
    public Tensor pSample(Tensor modelOutput, Tensor x, Tensor t, Tensor noise) {
        try (TensorScope s = TensorScope.open(); MeanVariance mv = pMeanVariance(modelOutput, x, t)) {
            Tensor nonzero = t.ne(Tensor.zeros(new long[] {1}, t.dtype(), t.device())).to(x.dtype()).reshape(shapeForBatch(x));
            Tensor out = mv.mean().add(nonzero.mul(mv.logVariance().mul(0.5).exp()).mul(noise));
            return s.keep(out);
        }
    }

    /** One DDIM step with eta (0 = deterministic). */
    public Tensor ddimSample(Tensor modelOutput, Tensor x, Tensor t, double eta, Generator gen) {
        try (TensorScope s = TensorScope.open(); MeanVariance mv = pMeanVariance(modelOutput, x, t)) {
            int r = x.dim();
            Device d = x.device();
            Tensor predX0 = mv.predXStart();
            Tensor eps = x.mul(extract(sqrtRecipAlphasCumprod, t, r, d)).sub(predX0).div(extract(sqrtRecipm1AlphasCumprod, t, r, d));
            Tensor ab = extract(alphasCumprod, t, r, d);
            Tensor abPrev = extract(alphasCumprodPrev, t, r, d);
            Tensor sigma = abPrev.rsub(1).div(ab.rsub(1)).sqrt().mul(ab.div(abPrev).rsub(1).sqrt()).mul(eta);
            Tensor meanPred = predX0.mul(abPrev.sqrt()).add(abPrev.rsub(1).sub(sigma.square()).sqrt().mul(eps));
            Tensor out = meanPred;
            if (eta > 0) {
                Tensor noise = Tensor.randn(x.shape(), x.dtype(), x.device(), gen);
                Tensor nonzero = t.ne(Tensor.zeros(new long[] {1}, t.dtype(), t.device())).to(x.dtype()).reshape(shapeForBatch(x));
                out = meanPred.add(nonzero.mul(sigma).mul(noise));
            }
            return s.keep(out);
        }
    }

    private static long[] shapeForBatch(Tensor x) {
        long[] shape = new long[x.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = x.size(0);
        return shape;
    }

    /** The loss terms of one training batch. */
    public record Losses(Tensor loss, Tensor mse, Tensor vb) implements AutoCloseable {
        @Override
        public void close() {
            loss.close();
            mse.close();
            vb.close();
        }
    }

    /**
     * The hybrid loss per sample: mean((noise - eps)^2) + VLB term in bits, where the VLB sees the
     * model's mean detached (so only the variance head learns from it). At t = 0 the VLB term is
     * the discretised-Gaussian decoder NLL. {@code modelOutput} is the network output on x_t.
     */
    public Losses trainingLosses(Tensor modelOutput, Tensor x0, Tensor xt, Tensor t, Tensor noise) {
        try (TensorScope s = TensorScope.open()) {
            long c = x0.size(1);
            Tensor eps = modelOutput.narrow(1, 0, c);
            Tensor frozen = Tensor.cat(List.of(eps.detach(), modelOutput.narrow(1, c, c)), 1);
            Tensor vb = vbTermsBpd(frozen, x0, xt, t);
            Tensor mse = meanFlat(noise.sub(eps).square());
            return new Losses(s.keep(mse.add(vb)), s.keep(mse), s.keep(vb));
        }
    }

    Tensor vbTermsBpd(Tensor modelOutput, Tensor x0, Tensor xt, Tensor t) {
        try (TensorScope s = TensorScope.open(); MeanVariance p = pMeanVariance(modelOutput, xt, t)) {
            Tensor trueMean = posteriorMean(x0, xt, t);
            Tensor trueLogVar = posteriorLogVariance(t, xt.dim(), xt.device());
            Tensor kl = meanFlat(GaussianLikelihood.normalKl(trueMean, trueLogVar, p.mean(), p.logVariance())).div(Math.log(2));
            Tensor nll = meanFlat(GaussianLikelihood.discretizedGaussianLogLikelihood(x0, p.mean(), p.logVariance().mul(0.5)).neg()).div(Math.log(2));
            Tensor isZero = t.eq(0);
            return s.keep(Tensor.where(isZero, nll, kl));
        }
    }

    /** Mean over every dimension but the batch (the reference's mean_flat): [N, ...] -> [N]. */
    public static Tensor meanFlat(Tensor x) {
        long[] dims = new long[x.dim() - 1];
        for (int i = 0; i < dims.length; i++) dims[i] = i + 1;
        return x.mean(dims, false);
    }
}
