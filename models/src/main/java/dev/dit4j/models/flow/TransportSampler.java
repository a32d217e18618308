package dev.dit4j.models.flow;

import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Locale;

/**
 * SiT's Sampler (transport/transport.py, integrators.py) from noise at t0 to data at t1.
 *
 * <p>ODE ({@code sample_ode}): the probability-flow drift (the velocity; for score and noise
 * prediction -f + g s) integrated over SiT's float32 {@code linspace(t0, t1, steps)} with
 * torchdiffeq's fixed-grid Euler, Heun (heun2) or midpoint steps, one per interval, or with its
 * adaptive Dormand–Prince {@code dopri5}: Hairer's initial step, the 5(4) pair's error in the RMS
 * norm over the whole batch against atol + rtol max(|y0|, |y1|), the step grown or shrunk by
 * 0.9 ratio^(-1/5) within [0.2, 10] (never shrunk after an accepted step), the stages at t1
 * evaluated just below it, and the end point read from the step's quartic interpolant.
 *
 * <p>SDE ({@code sample_sde}): drift + w(t) score with SiT's diffusion w(t) of a form and norm,
 * Euler–Maruyama or Heun steps over the first steps - 1 points of the linspace (noise drawn for
 * every step from {@code gen}, of the batch's shape, as SiT's {@code randn(x.size())}), then its
 * last step at t1: Mean (x + drift dt), Tweedie (x / alpha + sigma^2 / alpha score), Euler
 * (x + ODE drift dt) or none.
 *
 * <p>The denoiser's first C output channels are the prediction (a learned-sigma network's, as
 * SiT's forward drops the rest); its timestep is t in [0, 1] as float32.
 */
public final class TransportSampler implements Sampler {
    /** ODE or SDE. */
    public enum Mode {
        ODE, SDE;

        public static Mode parse(String text) {
            return Mode.valueOf(text.trim().toUpperCase(Locale.ROOT));
        }
    }

    /** The integrators: ODE takes all; SDE Euler (Euler–Maruyama) and Heun. */
    public enum Method {
        EULER, HEUN, MIDPOINT, DOPRI5;

        /** SiT's and torchdiffeq's names: Euler/euler, Heun/heun2, midpoint, dopri5. */
        public static Method parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "euler" -> EULER;
                case "heun", "heun2" -> HEUN;
                case "midpoint" -> MIDPOINT;
                case "dopri5", "dopri" -> DOPRI5;
                default -> throw new IllegalArgumentException("'" + text + "': expected euler, heun, midpoint or dopri5 (ODE), euler or heun (SDE)");
            };
        }

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** SiT's last SDE step. */
    public enum LastStep {
        NONE, MEAN, TWEEDIE, EULER;

        public static LastStep parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "none" -> NONE;
                case "mean" -> MEAN;
                case "tweedie" -> TWEEDIE;
                case "euler" -> EULER;
                default -> throw new IllegalArgumentException("'" + text + "': expected Mean, Tweedie, Euler or None");
            };
        }
    }

    /**
     * Settings, SiT's sample.py defaults by {@link #ode} and {@link #sde}.
     *
     * @param steps SiT's num_steps: points of the time grid (fixed ODE solvers and the SDE take steps - 1 steps)
     */
    public record Options(Mode mode, Method method, int steps, double atol, double rtol, Transport.DiffusionForm diffusionForm,
                          double diffusionNorm, LastStep lastStep, double lastStepSize) {
        public Options {
            if (steps < 2) throw new IllegalArgumentException("a transport sampler needs at least 2 time points, got " + steps);
            if (mode == Mode.SDE && method != Method.EULER && method != Method.HEUN) {
                throw new IllegalArgumentException("SDE sampling takes Euler or Heun, not " + method.flag());
            }
            if (!(atol > 0 && rtol > 0)) throw new IllegalArgumentException("atol and rtol must be positive, got " + atol + ", " + rtol);
            if (!(lastStepSize >= 0 && lastStepSize < 1)) throw new IllegalArgumentException("last step size must lie in [0, 1), got " + lastStepSize);
        }

        /** sample.py ODE: dopri5, atol 1e-6, rtol 1e-3. */
        public static Options ode(Method method, int steps) {
            return new Options(Mode.ODE, method, steps, 1e-6, 1e-3, Transport.DiffusionForm.SIGMA, 1.0, LastStep.MEAN, 0.04);
        }

        /** sample.py SDE: diffusion form sigma, norm 1, last step Mean of size 0.04. */
        public static Options sde(Method method, int steps) {
            return new Options(Mode.SDE, method, steps, 1e-6, 1e-3, Transport.DiffusionForm.SIGMA, 1.0, LastStep.MEAN, 0.04);
        }

        public Options withTolerances(double a, double r) {
            return new Options(mode, method, steps, a, r, diffusionForm, diffusionNorm, lastStep, lastStepSize);
        }

        public Options withDiffusion(Transport.DiffusionForm form, double norm) {
            return new Options(mode, method, steps, atol, rtol, form, norm, lastStep, lastStepSize);
        }

        public Options withLastStep(LastStep last, double size) {
            return new Options(mode, method, steps, atol, rtol, diffusionForm, diffusionNorm, last, size);
        }

        /** The size SiT's sample_sde uses: 0 without a last step. */
        double effectiveLastStepSize() {
            return lastStep == LastStep.NONE ? 0 : lastStepSize;
        }
    }

    private final Transport transport;
    private final Options options;
    private int evaluations;

    public TransportSampler(Transport transport, Options options) {
        this.transport = transport;
        this.options = options;
    }

    /**
     * The sampler {@code settings} ask for (null fields: sample.py's defaults: ODE dopri5 with
     * atol 1e-6, rtol 1e-3; SDE Euler, diffusion sigma of norm 1, last step Mean of size 0.04)
     * over {@code steps} time points.
     */
    public static TransportSampler of(Transport transport, boolean sde, int steps, dev.dit4j.models.sampling.SamplerSettings s) {
        Method method = s.method() != null ? Method.parse(s.method()) : sde ? Method.EULER : Method.DOPRI5;
        Options o = sde ? Options.sde(method, steps) : Options.ode(method, steps);
        if (!sde && (s.diffusionForm() != null || s.diffusionNorm() != null || s.lastStep() != null || s.lastStepSize() != null)) {
            throw new IllegalArgumentException("the diffusion form and norm and the last step are SDE settings; ODE sampling takes none");
        }
        if (sde && (s.atol() != null || s.rtol() != null)) throw new IllegalArgumentException("atol and rtol are dopri5's; SDE sampling takes none");
        if (!sde && method != Method.DOPRI5 && (s.atol() != null || s.rtol() != null)) {
            throw new IllegalArgumentException("atol and rtol are dopri5's; " + method.flag() + " takes fixed steps");
        }
        o = o.withTolerances(s.atol() != null ? s.atol() : o.atol(), s.rtol() != null ? s.rtol() : o.rtol())
                .withDiffusion(s.diffusionForm() != null ? Transport.DiffusionForm.parse(s.diffusionForm()) : o.diffusionForm(),
                        s.diffusionNorm() != null ? s.diffusionNorm() : o.diffusionNorm())
                .withLastStep(s.lastStep() != null ? LastStep.parse(s.lastStep()) : o.lastStep(), s.lastStepSize() != null ? s.lastStepSize() : o.lastStepSize());
        return new TransportSampler(transport, o);
    }

    public Options options() {
        return options;
    }

    /** The sampling interval [t0, t1] (SiT's check_interval with eval=True). */
    public double[] interval() {
        boolean sde = options.mode() == Mode.SDE;
        return transport.interval(true, sde, options.diffusionForm(), sde ? options.effectiveLastStepSize() : 0);
    }

    /** Network evaluations of a fixed-step run (dopri5: the grid's points; {@link #evaluations()} counts what a run took). */
    @Override
    public int steps() {
        int n = options.steps() - 1;
        if (options.mode() == Mode.SDE) return (options.method() == Method.HEUN ? 2 * n : n) + (options.lastStep() == LastStep.NONE ? 0 : 1);
        return switch (options.method()) {
            case EULER -> n;
            case HEUN, MIDPOINT -> 2 * n;
            case DOPRI5 -> options.steps();
        };
    }

    /** Network evaluations the last {@link #sample} made. */
    public int evaluations() {
        return evaluations;
    }

    @Override
    public Tensor sample(Denoiser model, Tensor noise, Generator gen) {
        evaluations = 0;
        double[] range = interval();
        float[] grid;
        try (Tensor g = Tensor.linspace(range[0], range[1], options.steps(), DType.FLOAT32, Device.CPU)) {
            grid = g.toFloatArray();
        }
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad()) {
            Tensor x = noise.to(DType.FLOAT32);
            x = options.mode() == Mode.SDE ? sde(model, x, grid, (float) range[1], gen)
                    : options.method() == Method.DOPRI5 ? dopri5(model, x, grid[0], grid[grid.length - 1]) : fixedOde(model, x, grid);
            return s.keep(x);
        }
    }

    // ---- the model's quantities (transport.py get_drift, get_score) ----

    private Tensor times(Tensor x, float t) {
        return Tensor.full(t, new long[] {x.size(0)}, DType.FLOAT32, x.device());
    }

    /** The network's output; a data prediction as the velocity it implies, computed once for drift and score. */
    private Tensor predict(Denoiser model, Tensor x, Tensor t) {
        evaluations++;
        try (TensorScope s = TensorScope.open()) {
            Tensor out = TransportObjective.channels(model.apply(x, t), x);
            return s.keep(transport.prediction() == Transport.Prediction.DATA ? transport.path().velocityFromData(out, x, t.reshape(-1, 1, 1, 1)) : out);
        }
    }

    /** The ODE drift from the model's output. */
    private Tensor drift(Tensor out, Tensor x, Tensor te) {
        Transport.Path path = transport.path();
        return switch (transport.prediction()) {
            case VELOCITY, DATA -> out; // predict() turned a data prediction into its velocity
            case SCORE -> {
                Tensor[] d = path.drift(x, te);
                yield d[0].neg().add(d[1].mul(out));
            }
            case NOISE -> {
                Tensor[] d = path.drift(x, te);
                yield d[0].neg().add(d[1].mul(out.div(path.sigma(te).neg())));
            }
        };
    }

    /** The score from the model's output. */
    private Tensor score(Tensor out, Tensor x, Tensor te) {
        return switch (transport.prediction()) {
            case NOISE -> out.div(transport.path().sigma(te).neg());
            case SCORE -> out;
            case VELOCITY, DATA -> transport.path().scoreFromVelocity(out, x, te);
        };
    }

    private Tensor odeDrift(Denoiser model, Tensor x, float t) {
        try (TensorScope s = TensorScope.open()) {
            Tensor tv = times(x, t);
            return s.keep(drift(predict(model, x, tv), x, tv.reshape(-1, 1, 1, 1)));
        }
    }

    private Tensor diffusion(Tensor x, Tensor te) {
        return transport.path().diffusion(x, te, options.diffusionForm(), options.diffusionNorm());
    }

    /** SiT's sde_drift: drift + diffusion * score (the model run once for both). */
    private Tensor sdeDrift(Denoiser model, Tensor x, Tensor tv) {
        try (TensorScope s = TensorScope.open()) {
            Tensor te = tv.reshape(-1, 1, 1, 1);
            Tensor out = predict(model, x, tv);
            return s.keep(drift(out, x, te).add(diffusion(x, te).mul(score(out, x, te))));
        }
    }

    // ---- ODE ----

    private Tensor fixedOde(Denoiser model, Tensor x, float[] grid) {
        for (int i = 0; i + 1 < grid.length; i++) {
            try (TensorScope step = TensorScope.open()) {
                float t0 = grid[i], t1 = grid[i + 1], dt = t1 - t0;
                Tensor k1 = odeDrift(model, x, t0);
                Tensor dy = switch (options.method()) {
                    case EULER -> k1.mul(dt);
                    case HEUN -> k1.add(odeDrift(model, x.add(k1.mul(dt)), t1)).mul(0.5f * dt);
                    case MIDPOINT -> {
                        float half = 0.5f * dt;
                        yield odeDrift(model, x.add(k1.mul(half)), t0 + half).mul(dt);
                    }
                    case DOPRI5 -> throw new IllegalStateException();
                };
                Tensor next = x.add(dy);
                x = step.keep(next);
            }
        }
        return x;
    }

    // Dormand–Prince 5(4) (torchdiffeq's dopri5 tableau, its mid-point for the interpolant).
    private static final double[] ALPHA = {1 / 5., 3 / 10., 4 / 5., 8 / 9., 1., 1.};
    private static final double[][] BETA = {
            {1 / 5.},
            {3 / 40., 9 / 40.},
            {44 / 45., -56 / 15., 32 / 9.},
            {19372 / 6561., -25360 / 2187., 64448 / 6561., -212 / 729.},
            {9017 / 3168., -355 / 33., 46732 / 5247., 49 / 176., -5103 / 18656.},
            {35 / 384., 0, 500 / 1113., 125 / 192., -2187 / 6784., 11 / 84.}};
    private static final double[] C_ERROR = {35 / 384. - 1951 / 21600., 0, 500 / 1113. - 22642 / 50085., 125 / 192. - 451 / 720.,
            -2187 / 6784. - -12231 / 42400., 11 / 84. - 649 / 6300., -1. / 60.};
    private static final double[] MID = {6025192743. / 30085553152. / 2, 0, 51252292925. / 65400821598. / 2, -2691868925. / 45128329728. / 2,
            187940372067. / 1594534317056. / 2, -1776094331. / 19743644256. / 2, 11237099. / 235043384. / 2};
    private static final double SAFETY = 0.9, IFACTOR = 10, DFACTOR = 0.2;
    private static final int ORDER = 5;
    private static final int MAX_STEPS = 100_000;

    /** RMS over every element, in float64. */
    private static double rms(Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            return t.to(DType.FLOAT64).square().mean().sqrt().item();
        }
    }

    /** y + sum_j k_j (c_j dt), the coefficients rounded to float32 as torchdiffeq's float32 tableau. */
    private static Tensor combine(Tensor y, Tensor[] k, double[] c, float dt) {
        Tensor out = y;
        for (int j = 0; j < c.length; j++) {
            if (c[j] == 0) continue;
            out = out.add(k[j], (float) c[j] * dt);
        }
        return out == y ? y.mul(1) : out;
    }

    private Tensor dopri5(Denoiser model, Tensor y0, float start, float end) {
        double atol = options.atol(), rtol = options.rtol();
        Tensor y = y0, f;
        double tNow = start;
        double dt;
        // Hairer's initial step (torchdiffeq _select_initial_step, order 4), norms in float64 as SiT's list tolerances make them.
        try (TensorScope init = TensorScope.open()) {
            f = odeDrift(model, y, start);
            Tensor scale = y.to(DType.FLOAT64).abs().mul(rtol).add(atol);
            double d0 = rms(y.to(DType.FLOAT64).div(scale)), d1 = rms(f.to(DType.FLOAT64).div(scale));
            double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
            Tensor y1 = y.add(f, h0);
            Tensor f1 = odeDrift(model, y1, (float) (start + h0));
            double d2 = rms(f1.sub(f).to(DType.FLOAT64).div(scale)) / h0;
            double h1 = d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / Math.max(d1, d2), 1.0 / ORDER);
            dt = Math.min(100 * h0, h1);
            f = init.keep(f);
        }
        Tensor[] interp = null;
        double stepStart = tNow;
        int steps = 0;
        while (end > tNow) {
            if (++steps > MAX_STEPS) throw new IllegalStateException("dopri5 took more than " + MAX_STEPS + " steps");
            if (!(tNow + dt > tNow)) throw new IllegalStateException("dopri5: underflow in dt " + dt);
            try (TensorScope step = TensorScope.open()) {
                double t1 = tNow + dt;
                float t0f = (float) tNow, dtf = (float) dt, t1f = (float) t1;
                Tensor[] k = new Tensor[7];
                k[0] = f;
                Tensor yi = null;
                for (int i = 0; i < 6; i++) {
                    float ti = ALPHA[i] == 1 ? Math.nextDown(t1f) : t0f + (float) ALPHA[i] * dtf;
                    yi = combine(y, k, BETA[i], dtf);
                    k[i + 1] = odeDrift(model, yi, ti);
                }
                Tensor y1 = yi, f1 = k[6];
                Tensor err = combine(Tensor.zeros(y.shape(), DType.FLOAT32, y.device()), k, C_ERROR, dtf);
                Tensor tol = y.abs().maximum(y1.abs()).to(DType.FLOAT64).mul(rtol).add(atol);
                double ratio = rms(err.to(DType.FLOAT64).div(tol));
                if (ratio <= 1) {
                    Tensor yMid = combine(y, k, MID, dtf);
                    interp = fit(y, y1, yMid, f, f1, dtf);
                    for (int c = 0; c < interp.length; c++) interp[c] = step.keep(interp[c]);
                    y = step.keep(y1);
                    f = step.keep(f1);
                    stepStart = tNow;
                    tNow = t1;
                }
                dt = optimalStep(dt, ratio);
            }
        }
        if (interp == null) return y.mul(1);
        double x = (end - stepStart) / (tNow - stepStart);
        float xf = (float) x;
        Tensor total = interp[0].add(interp[1].mul(xf));
        float power = xf;
        for (int c = 2; c < interp.length; c++) {
            power = power * xf;
            total = total.add(interp[c].mul(power));
        }
        return total;
    }

    /** torchdiffeq's _interp_fit: [e, d, c, b, a] of the quartic through the step. */
    private static Tensor[] fit(Tensor y0, Tensor y1, Tensor yMid, Tensor f0, Tensor f1, float dt) {
        Tensor a = f1.sub(f0).mul(2 * dt).sub(y1.add(y0).mul(8)).add(yMid.mul(16));
        Tensor b = f0.mul(5).sub(f1.mul(3)).mul(dt).add(y0.mul(18)).add(y1.mul(14)).sub(yMid.mul(32));
        Tensor c = f1.sub(f0.mul(4)).mul(dt).sub(y0.mul(11)).sub(y1.mul(5)).add(yMid.mul(16));
        Tensor d = f0.mul(dt);
        Tensor e = y0.mul(1);
        return new Tensor[] {e, d, c, b, a};
    }

    /** torchdiffeq's _optimal_step_size. */
    private static double optimalStep(double last, double ratio) {
        if (ratio == 0) return last * IFACTOR;
        double dfactor = ratio < 1 ? 1 : DFACTOR;
        double factor = Math.min(IFACTOR, Math.max(SAFETY / Math.pow(ratio, 1.0 / ORDER), dfactor));
        return last * factor;
    }

    // ---- SDE ----

    private Tensor sde(Denoiser model, Tensor x, float[] grid, float end, Generator gen) {
        float dt = grid[1] - grid[0];
        float sqrtDt = (float) Math.sqrt(dt);
        for (int i = 0; i + 1 < grid.length; i++) {
            try (TensorScope step = TensorScope.open()) {
                Tensor w = Tensor.randn(x.shape(), DType.FLOAT32, x.device(), gen);
                Tensor dw = w.mul(sqrtDt);
                Tensor tv = times(x, grid[i]);
                Tensor te = tv.reshape(-1, 1, 1, 1);
                Tensor next;
                if (options.method() == Method.EULER) {
                    Tensor drift = sdeDrift(model, x, tv);
                    Tensor diffusion = diffusion(x, te);
                    Tensor mean = x.add(drift.mul(dt));
                    next = mean.add(diffusion.mul(2).sqrt().mul(dw));
                } else {
                    Tensor diffusion = diffusion(x, te);
                    Tensor xHat = x.add(diffusion.mul(2).sqrt().mul(dw));
                    Tensor k1 = sdeDrift(model, xHat, tv);
                    Tensor xp = xHat.add(k1.mul(dt));
                    Tensor k2 = sdeDrift(model, xp, tv.add(dt));
                    next = xHat.add(k1.add(k2).mul(0.5f * dt));
                }
                x = step.keep(next);
            }
        }
        return lastStep(model, x, end);
    }

    private Tensor lastStep(Denoiser model, Tensor x, float t) {
        double size = options.effectiveLastStepSize();
        try (TensorScope s = TensorScope.open()) {
            Tensor tv = times(x, t);
            Tensor te = tv.reshape(-1, 1, 1, 1);
            Tensor out = switch (options.lastStep()) {
                case NONE -> x.mul(1);
                case MEAN -> x.add(sdeDrift(model, x, tv).mul(size));
                case EULER -> x.add(drift(predict(model, x, tv), x, te).mul(size));
                case TWEEDIE -> {
                    double alpha, sigma;
                    try (Transport.Coefficients c = transport.path().coefficients(tv)) {
                        alpha = c.alpha().narrow(0, 0, 1).item();
                        sigma = c.sigma().narrow(0, 0, 1).item();
                    }
                    float a = (float) alpha, sg = (float) sigma;
                    Tensor sc = score(predict(model, x, tv), x, te);
                    yield x.div(a).add(sc.mul(sg * sg / a));
                }
            };
            return s.keep(out);
        }
    }
}
