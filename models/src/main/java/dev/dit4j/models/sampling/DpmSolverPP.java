package dev.dit4j.models.sampling;

import dev.dit4j.models.diffusion.Linspace;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.ArrayList;
import java.util.List;

/**
 * DPM-Solver++ (Lu et al. 2022), the deterministic data-prediction ODE solver, step for step as
 * the authors' dpm_solver_pytorch.py with algorithm_type "dpmsolver++" and solver_type "dpmsolver":
 *
 * <ul>
 *   <li>{@link Method#MULTISTEP}: orders 1 to 3, warmed up with lower orders, and with
 *       lower_order_final (fewer than 10 steps end on lower orders);
 *   <li>{@link Method#SINGLESTEP}: "DPM-Solver-fast", singlestep updates of orders 3/2/1 that use
 *       exactly {@code steps} evaluations (U-ViT's sampler: order 3, time-uniform).
 * </ul>
 *
 * Time runs from {@code tStart} (1) down to {@code tEnd} (1/N by default). {@link #steps()} is the
 * number of network evaluations. The generator passed to {@link #sample} is not used.
 * Construct with {@link #forDiT}, {@link #forUViT} or {@link #builder}. Guidance belongs to the
 * denoiser, e.g. for DiT:
 *
 * <pre>{@code
 * Tensor guided = DpmSolverPP.forDiT(20).sample(dit.guided(Conditioning.labels(y, 1000), 4.0), z, null);
 * }</pre>
 */
public final class DpmSolverPP implements Sampler {
    /** Multistep (reuses earlier evaluations) or singlestep (intermediate evaluations inside each step). */
    public enum Method { MULTISTEP, SINGLESTEP }

    /** How the time grid is spaced: uniform in t, uniform in half log-SNR, or uniform in sqrt(t). */
    public enum Spacing { TIME_UNIFORM, LOGSNR, TIME_QUADRATIC }

    private final NoiseScheduleVP schedule;
    private final TimeInput timeInput;
    private final boolean learnsSigma;
    private final int steps;
    private final int order;
    private final Method method;
    private final Spacing spacing;
    private final double tStart;
    private final double tEnd;
    private final boolean lowerOrderFinal;

    private DpmSolverPP(Builder b) {
        schedule = b.schedule;
        timeInput = b.timeInput != null ? b.timeInput : TimeInput.reference(b.schedule);
        learnsSigma = b.learnsSigma;
        steps = b.steps;
        order = b.order;
        method = b.method;
        spacing = b.spacing;
        tStart = b.tStart;
        tEnd = Double.isNaN(b.tEnd) ? 1.0 / b.schedule.totalN() : b.tEnd;
        lowerOrderFinal = b.lowerOrderFinal;
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (order < 1 || order > 3) throw new IllegalArgumentException("order must be 1, 2 or 3, got " + order);
        if (method == Method.MULTISTEP && steps < order) {
            throw new IllegalArgumentException("multistep order " + order + " needs at least " + order + " steps, got " + steps);
        }
        if (!(tEnd > 0 && tEnd < tStart && tStart <= schedule.tMax())) {
            throw new IllegalArgumentException("need 0 < tEnd < tStart <= 1, got tEnd " + tEnd + ", tStart " + tStart);
        }
    }

    /**
     * DiT (and U-DiT): its 1000-step linear schedule, the reference's discrete time input
     * (t - 1/N) * 1000, learned-sigma output (first C channels used), multistep order 2 on
     * time-uniform steps — the reference's recommendation for guided sampling.
     */
    public static DpmSolverPP forDiT(int steps) {
        return builder(NoiseScheduleVP.ditLinear()).learnsSigma(true).steps(steps).order(2).build();
    }

    /**
     * U-ViT's discrete latent models as eval_ldm_discrete.py samples them: the Stable Diffusion
     * schedule, network time t * 1000, epsilon output, singlestep "fast" order 3 on time-uniform
     * steps from t = 1 to 1/1000.
     */
    public static DpmSolverPP forUViT(int steps) {
        return builder(NoiseScheduleVP.stableDiffusion()).timeInput(TimeInput.uvitDiscrete(1000))
                .method(Method.SINGLESTEP).order(3).steps(steps).build();
    }

    /**
     * U-ViT's continuous-time models (sde.py: CIFAR-10, CelebA, ImageNet-64, the L latent models):
     * the linear VP-SDE (beta 0.1 to 20), network time t * 999, epsilon output, singlestep "fast"
     * order 3 on time-uniform steps from t = 1 to 1e-4 (the authors' eps).
     */
    public static DpmSolverPP forUViTContinuous(int steps) {
        return builder(NoiseScheduleVP.linear()).timeInput(TimeInput.uvitContinuous()).method(Method.SINGLESTEP).order(3)
                .tEnd(1e-4).steps(steps).build();
    }

    /** Everything else; defaults are the reference's sample(): multistep, order 2, time-uniform, 20 steps, t 1 to 1/N. */
    public static Builder builder(NoiseScheduleVP schedule) {
        return new Builder(schedule);
    }

    @Override
    public int steps() {
        return steps;
    }

    public int order() {
        return order;
    }

    public Method method() {
        return method;
    }

    /** The outer time grid the solver steps over, from tStart to tEnd. */
    public double[] timesteps() {
        if (method == Method.MULTISTEP) return timeGrid(tStart, tEnd, steps);
        return singlestepPlan().times;
    }

    @Override
    public Tensor sample(Denoiser model, Tensor noise, Generator gen) {
        return run(model, noise, null);
    }

    /** Runs the solver and returns the state after every update, first to last (the last is the sample). */
    public List<Tensor> trajectory(Denoiser model, Tensor noise) {
        List<Tensor> states = new ArrayList<>();
        Tensor last = run(model, noise, states);
        last.close();
        return states;
    }

    private Tensor run(Denoiser net, Tensor noise, List<Tensor> states) {
        NoisePredictionModel model = new NoisePredictionModel(net, schedule, timeInput, learnsSigma);
        try (var noGrad = Autograd.noGrad()) {
            return method == Method.MULTISTEP ? multistep(model, noise, states) : singlestep(model, noise, states);
        }
    }

    private Tensor multistep(NoisePredictionModel model, Tensor noise, List<Tensor> states) {
        double[] ts = timeGrid(tStart, tEnd, steps);
        List<Tensor> prev = new ArrayList<>(); // data predictions at tPrev, oldest first
        List<Double> tPrev = new ArrayList<>();
        Tensor x = noise.clone();
        try {
            prev.add(model.data(x, ts[0]));
            tPrev.add(ts[0]);
            for (int step = 1; step <= steps; step++) {
                int stepOrder = step < order ? step : lowerOrderFinal && steps < 10 ? Math.min(order, steps + 1 - step) : order;
                Tensor next = multistepUpdate(x, prev, tPrev, ts[step], stepOrder);
                x.close();
                x = next;
                record(states, x);
                if (step >= order) { // the window is full: slide it
                    prev.remove(0).close();
                    tPrev.remove(0);
                }
                tPrev.add(ts[step]);
                // the final model value is never needed
                prev.add(step < steps ? model.data(x, ts[step]) : null);
            }
            return x;
        } catch (RuntimeException e) {
            x.close();
            throw e;
        } finally {
            for (Tensor p : prev) if (p != null) p.close();
        }
    }

    /** One multistep update of the given order from tPrev.last() to t, using the last {@code order} data predictions. */
    private Tensor multistepUpdate(Tensor x, List<Tensor> prev, List<Double> tPrev, double t, int stepOrder) {
        int last = prev.size() - 1;
        double tp0 = tPrev.get(last);
        double lambdaP0 = schedule.marginalLambda(tp0), lambdaT = schedule.marginalLambda(t);
        double h = lambdaT - lambdaP0;
        double alphaT = Math.exp(schedule.marginalLogMeanCoeff(t));
        double ratio = schedule.marginalStd(t) / schedule.marginalStd(tp0);
        double phi1 = Math.expm1(-h);
        Tensor m0 = prev.get(last);
        try (TensorScope s = TensorScope.open()) {
            Tensor xt = x.mul(ratio).sub(m0.mul(alphaT * phi1));
            if (stepOrder >= 2) {
                Tensor m1 = prev.get(last - 1);
                double lambdaP1 = schedule.marginalLambda(tPrev.get(last - 1));
                double r0 = (lambdaP0 - lambdaP1) / h;
                Tensor d10 = m0.sub(m1).div(r0);
                if (stepOrder == 2) {
                    xt = xt.sub(d10.mul(0.5 * alphaT * phi1));
                } else {
                    Tensor m2 = prev.get(last - 2);
                    double lambdaP2 = schedule.marginalLambda(tPrev.get(last - 2));
                    double r1 = (lambdaP1 - lambdaP2) / h;
                    Tensor d11 = m1.sub(m2).div(r1);
                    Tensor diff = d10.sub(d11);
                    Tensor d1 = d10.add(diff.mul(r0 / (r0 + r1)));
                    Tensor d2 = diff.div(r0 + r1);
                    double phi2 = phi1 / h + 1;
                    double phi3 = phi2 / h - 0.5;
                    xt = xt.add(d1.mul(alphaT * phi2)).sub(d2.mul(alphaT * phi3));
                }
            }
            return s.keep(xt);
        }
    }

    /** The singlestep plan: the order of each step and the outer times it moves between. */
    private record Plan(int[] orders, double[] times) {}

    private Plan singlestepPlan() {
        int[] orders;
        if (order == 3) {
            int k = steps / 3 + 1;
            orders = switch (steps % 3) {
                case 0 -> concat(k - 2, 3, new int[] {2, 1});
                case 1 -> concat(k - 1, 3, new int[] {1});
                default -> concat(k - 1, 3, new int[] {2});
            };
        } else if (order == 2) {
            orders = steps % 2 == 0 ? concat(steps / 2, 2, new int[0]) : concat(steps / 2, 2, new int[] {1});
        } else {
            orders = concat(steps, 1, new int[0]);
        }
        double[] times;
        if (spacing == Spacing.LOGSNR) {
            times = timeGrid(tStart, tEnd, orders.length); // as the reference, to reproduce the paper
        } else {
            double[] grid = timeGrid(tStart, tEnd, steps);
            times = new double[orders.length + 1];
            int at = 0;
            times[0] = grid[0];
            for (int i = 0; i < orders.length; i++) times[i + 1] = grid[at += orders[i]];
        }
        return new Plan(orders, times);
    }

    private static int[] concat(int repeats, int value, int[] tail) {
        int[] r = new int[repeats + tail.length];
        java.util.Arrays.fill(r, 0, repeats, value);
        System.arraycopy(tail, 0, r, repeats, tail.length);
        return r;
    }

    private Tensor singlestep(NoisePredictionModel model, Tensor noise, List<Tensor> states) {
        Plan plan = singlestepPlan();
        Tensor x = noise.clone();
        try {
            for (int i = 0; i < plan.orders.length; i++) {
                Tensor next = singlestepUpdate(model, x, plan.times[i], plan.times[i + 1], plan.orders[i]);
                x.close();
                x = next;
                record(states, x);
            }
            return x;
        } catch (RuntimeException e) {
            x.close();
            throw e;
        }
    }

    /**
     * One singlestep DPM-Solver++ update of the given order from s to t; the intermediate points
     * divide [lambda_s, lambda_t] in the ratios r1, r2 that the grid spacing gives between s and t.
     */
    private Tensor singlestepUpdate(NoisePredictionModel model, Tensor x, double s, double t, int stepOrder) {
        double lambdaS = schedule.marginalLambda(s);
        double h = schedule.marginalLambda(t) - lambdaS;
        double sigmaS = schedule.marginalStd(s);
        double alphaT = Math.exp(schedule.marginalLogMeanCoeff(t));
        double phi1 = Math.expm1(-h);
        try (TensorScope sc = TensorScope.open()) {
            Tensor ms = model.data(x, s);
            Tensor xt = x.mul(schedule.marginalStd(t) / sigmaS).sub(ms.mul(alphaT * phi1));
            if (stepOrder >= 2) {
                double[] inner = timeGrid(s, t, stepOrder);
                double innerLambda0 = schedule.marginalLambda(inner[0]);
                double innerH = schedule.marginalLambda(inner[stepOrder]) - innerLambda0;
                double r1 = (schedule.marginalLambda(inner[1]) - innerLambda0) / innerH;
                double s1 = schedule.inverseLambda(lambdaS + r1 * h);
                double alphaS1 = Math.exp(schedule.marginalLogMeanCoeff(s1));
                Tensor xs1 = x.mul(schedule.marginalStd(s1) / sigmaS).sub(ms.mul(alphaS1 * Math.expm1(-r1 * h)));
                Tensor ms1 = model.data(xs1, s1);
                if (stepOrder == 2) {
                    xt = xt.sub(ms1.sub(ms).mul(0.5 / r1 * alphaT * phi1));
                } else {
                    double r2 = (schedule.marginalLambda(inner[2]) - innerLambda0) / innerH;
                    double s2 = schedule.inverseLambda(lambdaS + r2 * h);
                    double alphaS2 = Math.exp(schedule.marginalLogMeanCoeff(s2));
                    double phi12 = Math.expm1(-r2 * h);
                    double phi22 = phi12 / (r2 * h) + 1;
                    Tensor xs2 = x.mul(schedule.marginalStd(s2) / sigmaS).sub(ms.mul(alphaS2 * phi12))
                            .add(ms1.sub(ms).mul(r2 / r1 * alphaS2 * phi22));
                    Tensor ms2 = model.data(xs2, s2);
                    xt = xt.add(ms2.sub(ms).mul(alphaT * (phi1 / h + 1) / r2));
                }
            }
            return sc.keep(xt);
        }
    }

    /** The reference's get_time_steps: n + 1 times from tFrom to tTo. */
    private double[] timeGrid(double tFrom, double tTo, int n) {
        return switch (spacing) {
            case TIME_UNIFORM -> Linspace.of(tFrom, tTo, n + 1);
            case LOGSNR -> {
                double[] lambdas = Linspace.of(schedule.marginalLambda(tFrom), schedule.marginalLambda(tTo), n + 1);
                double[] r = new double[n + 1];
                for (int i = 0; i <= n; i++) r[i] = schedule.inverseLambda(lambdas[i]);
                yield r;
            }
            case TIME_QUADRATIC -> {
                double[] r = Linspace.of(Math.sqrt(tFrom), Math.sqrt(tTo), n + 1);
                for (int i = 0; i <= n; i++) r[i] *= r[i];
                yield r;
            }
        };
    }

    private static void record(List<Tensor> states, Tensor x) {
        if (states != null) states.add(x.clone());
    }

    /** Settings for a {@link DpmSolverPP}. */
    public static final class Builder {
        private final NoiseScheduleVP schedule;
        private TimeInput timeInput;
        private boolean learnsSigma;
        private int steps = 20;
        private int order = 2;
        private Method method = Method.MULTISTEP;
        private Spacing spacing = Spacing.TIME_UNIFORM;
        private double tStart = 1;
        private double tEnd = Double.NaN;
        private boolean lowerOrderFinal = true;

        private Builder(NoiseScheduleVP schedule) {
            if (schedule == null) throw new IllegalArgumentException("schedule is null");
            this.schedule = schedule;
        }

        /** Number of network evaluations (NFE). */
        public Builder steps(int steps) {
            this.steps = steps;
            return this;
        }

        /** Solver order, 1 to 3. */
        public Builder order(int order) {
            this.order = order;
            return this;
        }

        public Builder method(Method method) {
            this.method = java.util.Objects.requireNonNull(method);
            return this;
        }

        public Builder spacing(Spacing spacing) {
            this.spacing = java.util.Objects.requireNonNull(spacing);
            return this;
        }

        /** The network's time convention; default {@link TimeInput#reference}. */
        public Builder timeInput(TimeInput timeInput) {
            this.timeInput = java.util.Objects.requireNonNull(timeInput);
            return this;
        }

        /** The network outputs [epsilon | variance] (2C channels); default false. */
        public Builder learnsSigma(boolean learnsSigma) {
            this.learnsSigma = learnsSigma;
            return this;
        }

        /** Start time, default 1. */
        public Builder tStart(double tStart) {
            this.tStart = tStart;
            return this;
        }

        /** End time, default 1/N (1e-3 for the continuous schedule). */
        public Builder tEnd(double tEnd) {
            this.tEnd = tEnd;
            return this;
        }

        /** Multistep with fewer than 10 steps ends on lower orders (the reference's default, true). */
        public Builder lowerOrderFinal(boolean lowerOrderFinal) {
            this.lowerOrderFinal = lowerOrderFinal;
            return this;
        }

        public DpmSolverPP build() {
            return new DpmSolverPP(this);
        }
    }
}
