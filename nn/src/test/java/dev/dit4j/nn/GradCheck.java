package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Checks autograd against central finite differences in float64. The function's output is
 * reduced to a scalar with fixed random weights so every output element contributes.
 */
final class GradCheck {
    private GradCheck() {}

    static void check(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        check(name, f, 1e-6, 1e-5, 1e-4, inputs);
    }

    static void check(String name, Function<List<Tensor>, Tensor> f, double eps, double atol, double rtol, Tensor... inputs) {
        try (TensorScope scope = TensorScope.open(); Generator gen = Generator.cpu(1234)) {
            List<Tensor> xs = new ArrayList<>();
            for (Tensor in : inputs) {
                if (in.dtype() != DType.FLOAT64) throw new IllegalArgumentException(name + ": gradcheck inputs must be float64");
                xs.add(in.detach().clone().requiresGrad(true));
            }
            Tensor probe = f.apply(xs);
            Tensor weights = Tensor.randn(probe.shape(), DType.FLOAT64, Device.CPU, gen);
            probe.mul(weights).sum().backward();
            for (int i = 0; i < xs.size(); i++) {
                Tensor x = xs.get(i);
                Tensor g = x.grad();
                double[] analytic = g == null ? new double[(int) x.numel()] : g.toDoubleArray();
                double[] numeric = numericGrad(f, xs, i, weights, eps);
                for (int j = 0; j < numeric.length; j++) {
                    double diff = Math.abs(analytic[j] - numeric[j]);
                    if (diff > atol + rtol * Math.abs(numeric[j])) {
                        fail(name + ": gradient of input " + i + " element " + j + " is " + analytic[j]
                                + " but finite differences give " + numeric[j]);
                    }
                }
            }
            assertTrue(xs.size() > 0);
        }
    }

    private static double[] numericGrad(Function<List<Tensor>, Tensor> f, List<Tensor> xs, int which, Tensor weights,
                                        double eps) {
        Tensor x = xs.get(which);
        double[] out = new double[(int) x.numel()];
        try (var noGrad = Autograd.noGrad()) {
            MemorySegment data = x.asSegment();
            for (int j = 0; j < out.length; j++) {
                double orig = data.getAtIndex(ValueLayout.JAVA_DOUBLE, j);
                data.setAtIndex(ValueLayout.JAVA_DOUBLE, j, orig + eps);
                double plus = objective(f, xs, weights);
                data.setAtIndex(ValueLayout.JAVA_DOUBLE, j, orig - eps);
                double minus = objective(f, xs, weights);
                data.setAtIndex(ValueLayout.JAVA_DOUBLE, j, orig);
                out[j] = (plus - minus) / (2 * eps);
            }
        }
        return out;
    }

    private static double objective(Function<List<Tensor>, Tensor> f, List<Tensor> xs, Tensor weights) {
        try (TensorScope s = TensorScope.open()) {
            return f.apply(xs).mul(weights).sum().item();
        }
    }
}
