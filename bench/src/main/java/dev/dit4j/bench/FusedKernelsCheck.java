package dev.dit4j.bench;

import dev.dit4j.nn.Autocast;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The fused adaLN ops ({@link Functional#lnModulate}, {@link Functional#gatedResidual}) against the
 * composite of ATen ops they replace, on one device: the output and the gradient of every input
 * (x, shift, scale / x, gate, y) in float32 (tolerance 1e-5 relative L2) and bfloat16 (2e-2), plus
 * a bfloat16 autocast case with float32 x and bfloat16 modulation as DiT's blocks have them. shift,
 * scale and gate are chunks of one [N, 6D] tensor, as adaLN's output is split. With --time, both
 * forms' forward + backward are timed. Prints one JSON line; exits 1 when a comparison fails (or,
 * with --require-kernels, when the native library has no fused kernels or the device is not CUDA).
 * On a CPU the composite runs on both sides, so there it checks the plumbing only.
 *
 * <p>Options: --device cuda:0 (default cpu) --shape 8,256,1152 (N,L,D; default 4,64,384)
 * --eps 1e-6 --time 20 (iterations; default 0) --require-kernels
 */
public final class FusedKernelsCheck {
    private FusedKernelsCheck() {}

    private record Case(String op, String mode, DType dtype, double tolerance) {}

    public static void main(String[] args) {
        boolean requireKernels = List.of(args).contains("--require-kernels");
        List<String> rest = new ArrayList<>(List.of(args));
        rest.remove("--require-kernels");
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(rest.toArray(String[]::new));
        Device device = Device.parse(a.get("device", "cpu"));
        String[] dims = a.get("shape", "4,64,384").split(",");
        long n = Long.parseLong(dims[0]), l = Long.parseLong(dims[1]), d = Long.parseLong(dims[2]);
        double eps = Double.parseDouble(a.get("eps", "1e-6"));
        int timeIters = a.integer("time", 0);
        boolean kernels = Torch.fusedKernelsBuilt() && device.isCuda();

        List<Case> cases = new ArrayList<>();
        for (String op : List.of("ln_modulate", "gated_residual")) {
            cases.add(new Case(op, "plain", DType.FLOAT32, 1e-5));
            cases.add(new Case(op, "plain", DType.BFLOAT16, 2e-2));
            cases.add(new Case(op, "autocast", DType.BFLOAT16, 2e-2));
        }
        StringBuilder json = new StringBuilder();
        boolean ok = true;
        for (Case c : cases) {
            try (TensorScope s = TensorScope.open()) {
                double[] errors = compare(c, device, n, l, d, eps);
                double worst = 0;
                int worstAt = 0;
                for (int i = 0; i < errors.length && !Double.isNaN(worst); i++) {
                    if (Double.isNaN(errors[i]) || errors[i] > worst) { // a NaN is the worst there is
                        worst = errors[i];
                        worstAt = i;
                    }
                }
                boolean pass = worst <= c.tolerance();
                ok &= pass;
                json.append(json.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT,
                        "{\"op\": \"%s\", \"mode\": \"%s\", \"dtype\": \"%s\", \"tolerance\": %.0e, \"max_rel_l2\": %.3e, \"worst\": \"%s\", \"ok\": %b}",
                        c.op(), c.mode(), c.dtype().name().toLowerCase(Locale.ROOT), c.tolerance(), worst, name(c.op(), worstAt), pass));
            } catch (RuntimeException e) {
                ok = false;
                json.append(json.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT,
                        "{\"op\": \"%s\", \"mode\": \"%s\", \"dtype\": \"%s\", \"error\": \"%s\", \"ok\": false}", c.op(), c.mode(),
                        c.dtype().name().toLowerCase(Locale.ROOT), escape(String.valueOf(e.getMessage()))));
            }
        }
        String timing = timeIters > 0 ? ", \"timing_ms\": " + time(device, n, l, d, eps, timeIters) : "";
        boolean kernelsOk = !requireKernels || kernels;
        System.out.printf(Locale.ROOT, "{\"check\": \"fused_kernels\", \"device\": \"%s\", \"shape\": [%d, %d, %d], \"torch\": \"%s\", "
                        + "\"kernels_built\": %b, \"kernels_ran\": %b, \"results\": [%s]%s, \"ok\": %b}%n", device, n, l, d, Torch.version(),
                Torch.fusedKernelsBuilt(), kernels, json, timing, ok && kernelsOk);
        if (!kernelsOk) System.err.println("FusedKernelsCheck: --require-kernels, but the fused CUDA kernels did not run on " + device);
        if (!(ok && kernelsOk)) System.exit(1);
    }

    private static String name(String op, int i) {
        String[] names = op.equals("ln_modulate") ? new String[] {"output", "grad x", "grad modulation"}
                : new String[] {"output", "grad x", "grad modulation", "grad y"};
        return names[i];
    }

    /** Relative L2 errors, fused against composite, of the output and every input's gradient. */
    private static double[] compare(Case c, Device device, long n, long l, long d, double eps) {
        boolean autocast = c.mode().equals("autocast");
        // autocast: float32 x (the residual stream), bfloat16 modulation and branch (linear outputs)
        DType xType = autocast ? DType.FLOAT32 : c.dtype();
        Tensor x = random(1, device, xType, n, l, d).mul(2).add(0.5);
        Tensor modulation = random(2, device, c.dtype(), n, 6 * d);
        Tensor y = random(3, device, c.dtype(), n, l, d);
        Function<List<Tensor>, Tensor> fused, composite;
        List<Tensor> inputs;
        if (c.op().equals("ln_modulate")) {
            inputs = List.of(x, modulation);
            fused = in -> {
                List<Tensor> m = in.get(1).chunk(6, 1);
                return Functional.lnModulate(in.get(0), m.get(0), m.get(1), eps);
            };
            composite = in -> {
                List<Tensor> m = in.get(1).chunk(6, 1);
                Tensor normed = Functional.layerNorm(in.get(0), new long[] {d}, null, null, eps);
                return m.get(0).unsqueeze(1).addcmul(normed, m.get(1).unsqueeze(1).add(1));
            };
        } else {
            inputs = List.of(x, modulation, y);
            fused = in -> Functional.gatedResidual(in.get(0), in.get(1).chunk(6, 1).get(2), in.get(2));
            composite = in -> in.get(0).addcmul(in.get(1).chunk(6, 1).get(2).unsqueeze(1), in.get(2));
        }
        List<Tensor> fusedOut = run(fused, inputs, autocast, device);
        List<Tensor> compositeOut = run(composite, inputs, autocast, device);
        if (fusedOut.get(0).dtype() != compositeOut.get(0).dtype()) {
            throw new IllegalStateException("dtype " + fusedOut.get(0).dtype() + ", the composite gives " + compositeOut.get(0).dtype());
        }
        double[] errors = new double[fusedOut.size()];
        for (int i = 0; i < errors.length; i++) errors[i] = relativeL2(compositeOut.get(i), fusedOut.get(i));
        return errors;
    }

    /** The output, then the gradients of sum(out * w) for fixed random w, as float64. */
    private static List<Tensor> run(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, boolean autocast, Device device) {
        List<Tensor> leaves = new ArrayList<>();
        for (Tensor t : inputs) leaves.add(t.detach().requiresGrad(true));
        Tensor out;
        if (autocast) {
            try (Autocast.Region r = Autocast.enable(device, DType.BFLOAT16)) {
                out = f.apply(leaves);
            }
        } else {
            out = f.apply(leaves);
        }
        Tensor w = random(99, device, out.dtype(), out.shape());
        List<Tensor> result = new ArrayList<>();
        result.add(out.detach().to(DType.FLOAT64));
        for (Tensor g : Autograd.grad(List.of(out.mul(w).sum()), leaves, null, false, false)) result.add(g.to(DType.FLOAT64));
        return result;
    }

    private static double relativeL2(Tensor expected, Tensor actual) {
        double scale = expected.norm(2, null, false).item();
        return actual.sub(expected).norm(2, null, false).item() / scale;
    }

    /** Uniform in [-1, 1), drawn on the CPU (the same values on every device) and moved. */
    private static Tensor random(long seed, Device device, DType dtype, long... shape) {
        try (Generator g = Generator.cpu(seed)) {
            return Tensor.rand(shape, DType.FLOAT32, Device.CPU, g).mul_(2).add_(-1).to(device, dtype);
        }
    }

    /** Milliseconds per forward + backward of lnModulate then gatedResidual, fused and composite, bfloat16. */
    private static String time(Device device, long n, long l, long d, double eps, int iters) {
        try (TensorScope s = TensorScope.open()) {
            Tensor x = random(4, device, DType.BFLOAT16, n, l, d).requiresGrad(true);
            Tensor modulation = random(5, device, DType.BFLOAT16, n, 6 * d).requiresGrad(true);
            Tensor y = random(6, device, DType.BFLOAT16, n, l, d).requiresGrad(true);
            Runnable fused = () -> {
                try (TensorScope t = TensorScope.open()) {
                    List<Tensor> m = modulation.chunk(6, 1);
                    Tensor h = Functional.lnModulate(x, m.get(0), m.get(1), eps);
                    Functional.gatedResidual(x, m.get(2), h.mul(y)).sum().backward();
                }
            };
            Runnable composite = () -> {
                try (TensorScope t = TensorScope.open()) {
                    List<Tensor> m = modulation.chunk(6, 1);
                    Tensor normed = Functional.layerNorm(x, new long[] {d}, null, null, eps);
                    Tensor h = m.get(0).unsqueeze(1).addcmul(normed, m.get(1).unsqueeze(1).add(1));
                    x.addcmul(m.get(2).unsqueeze(1), h.mul(y)).sum().backward();
                }
            };
            return String.format(Locale.ROOT, "{\"fused\": %.4f, \"composite\": %.4f}", millis(fused, device, iters), millis(composite, device, iters));
        }
    }

    private static double millis(Runnable step, Device device, int iters) {
        for (int i = 0; i < 3; i++) step.run();
        Torch.synchronize(device);
        long start = System.nanoTime();
        for (int i = 0; i < iters; i++) step.run();
        Torch.synchronize(device);
        return (System.nanoTime() - start) / 1e6 / iters;
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ");
    }
}
