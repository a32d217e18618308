package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.DpmSolverPP.Method;
import dev.dit4j.models.sampling.DpmSolverPP.Spacing;
import dev.dit4j.models.sampling.NoiseScheduleVP;
import dev.dit4j.models.sampling.TimeInput;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * DPM-Solver++ against the authors' solvers (fixtures from src/test/python/make_dpm_solver_fixtures.py,
 * float64 throughout) and against the closed-form probability-flow ODE of Gaussian data.
 */
class DpmSolverPPTest {
    /** Float64 on both sides: the only differences are summation order and libm. */
    private static final double TOL = 1e-11;
    private static final double GUIDANCE_SCALE = 3.0;
    private static final double[] LABELS = {1, 2};

    /** eps = tanh(a_c x + b tin + c_c + 0.25 y), the fixture script's model, y per sample or absent. */
    private record Analytic(Tensor a, Tensor c, double b, List<Double> times) {
        Tensor eps(Tensor x, Tensor tin, Tensor y) {
            try (TensorScope s = TensorScope.open()) {
                Tensor z = x.mul(a).add(tin.reshape(-1, 1, 1, 1).mul(b)).add(c);
                if (y != null) z = z.add(y.reshape(-1, 1, 1, 1).mul(0.25));
                return s.keep(z.tanh());
            }
        }

        /** A plain epsilon denoiser, or one with a variance head appended (DiT's 2C output) when learnsSigma. */
        Denoiser denoiser(boolean learnsSigma) {
            return (x, tin) -> {
                times.add(tin.toDoubleArray()[0]);
                try (TensorScope s = TensorScope.open()) {
                    Tensor eps = eps(x, tin, null);
                    return s.keep(learnsSigma ? Tensor.cat(List.of(eps, eps.mul(0).add(7)), 1) : eps);
                }
            };
        }

        /** dit4j's guidance form: batch [cond; uncond], guided epsilon written to both halves. */
        Denoiser guided(Tensor y) {
            return (x, tin) -> {
                times.add(tin.toDoubleArray()[0]);
                try (TensorScope s = TensorScope.open()) {
                    long n = x.size(0) / 2;
                    Tensor eps = eps(x, tin, y);
                    Tensor cond = eps.narrow(0, 0, n), uncond = eps.narrow(0, n, n);
                    Tensor g = uncond.add(cond.sub(uncond).mul(GUIDANCE_SCALE));
                    return s.keep(Tensor.cat(List.of(g, g), 0));
                }
            };
        }
    }

    private static Analytic analytic(Map<String, Tensor> r, String name) {
        return new Analytic(r.get("a").reshape(1, -1, 1, 1), r.get("c").reshape(1, -1, 1, 1), r.get(name + ".b").item(), new ArrayList<>());
    }

    private static void assertClose(Tensor actual, Tensor expected, double tol, String what) {
        double err = Fixtures.relativeL2(actual, expected);
        assertTrue(err < tol, what + ": rel L2 " + err);
    }

    private static void assertTimes(List<Double> actual, Tensor expected, String what) {
        double[] e = expected.toDoubleArray();
        assertEquals(e.length, actual.size(), what + ": number of network evaluations");
        for (int i = 0; i < e.length; i++) assertEquals(e[i], actual.get(i), 1e-9 * Math.max(1, Math.abs(e[i])), what + ": network time of call " + i);
    }

    /** Runs the case's solver on the analytic model and checks every state, the sample and the network times. */
    private static void checkCase(Map<String, Tensor> r, String name, DpmSolverPP solver, boolean learnsSigma) {
        Analytic model = analytic(r, name);
        Tensor xT = r.get(name + ".x_T");
        List<Tensor> states = solver.trajectory(model.denoiser(learnsSigma), xT);
        try {
            Tensor traj = r.get(name + ".traj");
            assertEquals(traj.size(0), states.size(), name + ": number of updates");
            for (int i = 0; i < states.size(); i++) assertClose(states.get(i), traj.select(0, i), TOL, name + " state " + (i + 1));
            assertTimes(model.times(), r.get(name + ".model_times"), name);
        } finally {
            states.forEach(Tensor::close);
        }
        assertEquals(solver.steps(), model.times().size(), name + ": steps() is the NFE");
    }

    @Test
    void multistepAndSinglestepMatchTheReferenceSolver() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("dpm_solver.safetensors"); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> r = ref.tensors();
            NoiseScheduleVP dit = NoiseScheduleVP.ditLinear(), sd = NoiseScheduleVP.stableDiffusion(), linear = NoiseScheduleVP.linear();
            checkCase(r, "dit_ms2", DpmSolverPP.forDiT(10), true);
            checkCase(r, "dit_ms3_logsnr", DpmSolverPP.builder(dit).learnsSigma(true).order(3).steps(6).spacing(Spacing.LOGSNR).build(), true);
            checkCase(r, "sd_ms3", DpmSolverPP.builder(sd).order(3).steps(12).build(), false);
            checkCase(r, "sd_ms2_logsnr", DpmSolverPP.builder(sd).order(2).steps(5).spacing(Spacing.LOGSNR).build(), false);
            checkCase(r, "linear_ms2_logsnr", DpmSolverPP.builder(linear).order(2).steps(8).spacing(Spacing.LOGSNR).build(), false);
            checkCase(r, "linear_ms3", DpmSolverPP.builder(linear).order(3).steps(15).tEnd(1e-4).build(), false);
            NoiseScheduleVP cosine = NoiseScheduleVP.discrete(r.get("cosine.alphas_cumprod").toDoubleArray());
            assertEquals(r.get("cosine.clipped_total_n").itemLong(), cosine.totalN(), "steps left after clipping lambda < -5.1");
            checkCase(r, "cosine_ms2_logsnr", DpmSolverPP.builder(cosine).order(2).steps(9).spacing(Spacing.LOGSNR).build(), false);
            checkCase(r, "dit_single2", DpmSolverPP.builder(dit).method(Method.SINGLESTEP).order(2).steps(7).build(), false);
            checkCase(r, "sd_single3_logsnr", DpmSolverPP.builder(sd).method(Method.SINGLESTEP).order(3).steps(10).spacing(Spacing.LOGSNR).build(), false);
        }
        assertEquals(live, Torch.liveTensors(), "tensors leaked");
    }

    @Test
    void classifierFreeGuidanceInTheDenoiserMatchesTheReferenceWrapper() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("dpm_solver.safetensors"); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> r = ref.tensors();
            Analytic model = analytic(r, "dit_guided");
            Tensor xT = r.get("dit_guided.x_T");
            long n = xT.size(0);
            Tensor y = Tensor.cat(List.of(Tensor.of(LABELS, n), Tensor.zeros(new long[] {n}, DType.FLOAT64, Device.CPU)), 0);
            Tensor both = DpmSolverPP.builder(NoiseScheduleVP.ditLinear()).steps(8).build()
                    .sample(model.guided(y), Tensor.cat(List.of(xT, xT), 0), null);
            assertClose(both.narrow(0, 0, n), r.get("dit_guided.final"), TOL, "guided sample, conditional half");
            assertClose(both.narrow(0, n, n), r.get("dit_guided.final"), TOL, "guided sample, second half");
            assertTimes(model.times(), r.get("dit_guided.model_times"), "guided");
        }
        assertEquals(live, Torch.liveTensors(), "tensors leaked");
    }

    @Test
    void uvitPresetMatchesUViTsOwnSolver() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("dpm_solver.safetensors"); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> r = ref.tensors();
            for (int steps : new int[] {9, 10, 11}) { // the three ways "fast" order 3 ends: 2+1, 1, 2
                String name = "uvit_fast3_" + steps;
                Analytic model = new Analytic(r.get("a").reshape(1, -1, 1, 1), r.get("c").reshape(1, -1, 1, 1), 0.0013, new ArrayList<>());
                DpmSolverPP solver = DpmSolverPP.forUViT(steps);
                Tensor x = solver.sample(model.denoiser(false), r.get(name + ".x_T"), null);
                assertClose(x, r.get(name + ".final"), TOL, name);
                assertTimes(model.times(), r.get(name + ".model_times"), name);
                assertEquals(steps, solver.steps());
            }
        }
        assertEquals(live, Torch.liveTensors(), "tensors leaked");
    }

    @Test
    void float32RunStaysNearTheFloat64Reference() {
        try (Safetensors.Contents ref = Fixtures.load("dpm_solver.safetensors"); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> r = ref.tensors();
            Analytic model = analytic(r, "sd_ms3");
            Analytic model32 = new Analytic(model.a().to(DType.FLOAT32), model.c().to(DType.FLOAT32), model.b(), model.times());
            Tensor x = DpmSolverPP.builder(NoiseScheduleVP.stableDiffusion()).order(3).steps(12).build()
                    .sample(model32.denoiser(false), r.get("sd_ms3.x_T").to(DType.FLOAT32), null);
            assertEquals(DType.FLOAT32, x.dtype());
            assertClose(x, r.get("sd_ms3.final"), 1e-5, "float32 sample");
        }
    }

    /**
     * Data x0 ~ N(0, s^2): the optimal noise prediction is eps = sigma_t x / (alpha_t^2 s^2 + sigma_t^2), and
     * the probability-flow ODE maps x_T to x_T * sqrt(v(t_end) / v(T)), v(t) = alpha_t^2 s^2 + sigma_t^2.
     * 20 evaluations of DPM-Solver++ must land on that map, so samples from unit noise have std near s.
     */
    @Test
    void gaussianDataIsTransportedAsTheExactOde() {
        double s0 = 0.5;
        long live = Torch.liveTensors();
        record Case(String what, NoiseScheduleVP schedule, TimeInput time, DpmSolverPP solver) {}
        NoiseScheduleVP dit = NoiseScheduleVP.ditLinear(), sd = NoiseScheduleVP.stableDiffusion(), linear = NoiseScheduleVP.linear();
        // logSNR steps: with 20 time-uniform steps the last one spans ~3 in lambda, and even the reference is 20 % off
        List<Case> cases = List.of(
                new Case("DiT multistep 2", dit, TimeInput.reference(dit),
                        DpmSolverPP.builder(dit).learnsSigma(true).order(2).steps(20).spacing(Spacing.LOGSNR).build()),
                new Case("DiT multistep 3", dit, TimeInput.reference(dit),
                        DpmSolverPP.builder(dit).learnsSigma(true).order(3).steps(20).spacing(Spacing.LOGSNR).build()),
                new Case("U-ViT singlestep 3", sd, TimeInput.uvitDiscrete(1000), DpmSolverPP.builder(sd).timeInput(TimeInput.uvitDiscrete(1000))
                        .method(Method.SINGLESTEP).order(3).steps(20).spacing(Spacing.LOGSNR).build()),
                new Case("linear VP multistep 3", linear, TimeInput.continuous(),
                        DpmSolverPP.builder(linear).order(3).steps(20).spacing(Spacing.LOGSNR).build()));
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(7)) {
            Tensor xT = Tensor.randn(new long[] {4096, 2, 2, 2}, DType.FLOAT32, Device.CPU, g);
            for (Case c : cases) {
                boolean learnsSigma = c.what.startsWith("DiT");
                Denoiser optimal = (x, tin) -> {
                    // invert the time convention to find the solver's t, then the schedule's alpha and sigma
                    double t = tin.toDoubleArray()[0] / c.time.scale() + c.time.offset();
                    double alpha = c.schedule.marginalAlpha(t), sigma = c.schedule.marginalStd(t);
                    Tensor eps = x.mul(sigma / (alpha * alpha * s0 * s0 + sigma * sigma));
                    return learnsSigma ? Tensor.cat(List.of(eps, eps), 1) : eps;
                };
                Tensor x = c.solver.sample(optimal, xT, null);
                double tEnd = c.solver.timesteps()[c.solver.timesteps().length - 1];
                double exact = Math.sqrt(variance(c.schedule, tEnd, s0) / variance(c.schedule, 1, s0));
                double err = Fixtures.relativeL2(x, xT.mul(exact));
                double std = Math.sqrt(x.var(new long[] {0, 1, 2, 3}, 1, false).item());
                System.out.printf("%s: rel L2 to the exact ODE map %.2e, std %.4f%n", c.what, err, std);
                assertTrue(err < 2e-2, c.what + ": rel L2 to the exact ODE map " + err);
                assertEquals(s0, std, 0.03 * s0, c.what + ": sample std");
            }
        }
        assertEquals(live, Torch.liveTensors(), "tensors leaked");
    }

    private static double variance(NoiseScheduleVP schedule, double t, double s0) {
        double a = schedule.marginalAlpha(t), sg = schedule.marginalStd(t);
        return a * a * s0 * s0 + sg * sg;
    }

    @Test
    void schedulesAndConventions() {
        NoiseScheduleVP dit = NoiseScheduleVP.ditLinear();
        double[] abar = dit_alphasCumprod();
        // the knots: t_n = (n + 1) / N carries alpha = sqrt(abar_n)
        for (int n : new int[] {0, 1, 499, 998, 999}) assertEquals(Math.sqrt(abar[n]), dit.marginalAlpha((n + 1) / 1000.0), 1e-12);
        // half-way between knots log alpha is interpolated linearly
        assertEquals(0.25 * (Math.log(abar[9]) + Math.log(abar[10])), dit.marginalLogMeanCoeff(10.5 / 1000), 1e-12);
        for (NoiseScheduleVP ns : List.of(dit, NoiseScheduleVP.stableDiffusion(), NoiseScheduleVP.linear())) {
            for (double t : new double[] {1e-3, 0.0123, 0.5, 0.987, 1}) {
                assertEquals(t, ns.inverseLambda(ns.marginalLambda(t)), 1e-9, "inverse lambda at " + t);
                double a = ns.marginalAlpha(t), sg = ns.marginalStd(t);
                assertEquals(1, a * a + sg * sg, 1e-12);
            }
        }
        assertEquals(999, TimeInput.reference(dit).apply(1), 1e-9);
        assertEquals(0, TimeInput.reference(dit).apply(1e-3), 1e-9);
        assertEquals(1000, TimeInput.uvitDiscrete(1000).apply(1), 1e-9);
        assertEquals(0.5, TimeInput.reference(NoiseScheduleVP.linear()).apply(0.5), 0);
        assertEquals(20, DpmSolverPP.forDiT(20).steps());
        assertEquals(21, DpmSolverPP.forDiT(20).timesteps().length);
        assertArrayEquals(new double[] {1, 0.7003, 0.4006, 0.1009, 0.001}, round(DpmSolverPP.forUViT(10).timesteps()), "orders 3, 3, 3, 1 on the 10-step grid");
        assertThrows(IllegalArgumentException.class, () -> DpmSolverPP.builder(dit).order(4).build());
        assertThrows(IllegalArgumentException.class, () -> DpmSolverPP.builder(dit).order(3).steps(2).build());
        assertThrows(IllegalArgumentException.class, () -> DpmSolverPP.builder(dit).tEnd(0).build());
        assertThrows(IllegalArgumentException.class, () -> NoiseScheduleVP.discrete(new double[] {0.9, 0.95}));
        // a denoiser with the wrong channel count is named as such
        try (TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.zeros(2, 3, 4, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DpmSolverPP.forDiT(4).sample((xx, t) -> xx.mul(1), x, null));
            assertTrue(e.getMessage().contains("6 channels"), e.getMessage());
        }
    }

    private static double[] dit_alphasCumprod() {
        return dev.dit4j.models.diffusion.GaussianDiffusion.linear(1000).alphasCumprod();
    }

    private static double[] round(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.round(v[i] * 1e9) / 1e9;
        return r;
    }
}
