package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Base for tensor tests: every test runs in a scope and must leave the live-tensor count as it found it. */
abstract class TestSupport {
    private long liveBefore;
    private TensorScope scope;

    @BeforeEach
    void openScope() {
        liveBefore = Torch.liveTensors();
        scope = TensorScope.open();
    }

    @AfterEach
    void closeScopeAndCheckLeaks() {
        scope.close();
        assertEquals(liveBefore, Torch.liveTensors(), "native tensors leaked by this test");
    }

    static Tensor f64(double[] data, long... shape) {
        return Tensor.of(data, shape);
    }

    static void assertClose(double[] expected, Tensor actual, double tol) {
        assertArrayEquals(expected, actual.toDoubleArray(), tol);
    }

    static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), "shape");
        assertArrayEquals(expected.toDoubleArray(), actual.toDoubleArray(), tol);
    }

    /** Deterministic float64 values in [-1, 1). */
    static Tensor seeded(long seed, long... shape) {
        try (Generator g = Generator.cpu(seed)) {
            return Tensor.rand(shape, DType.FLOAT64, Device.CPU, g).mul_(2).add_(-1);
        }
    }

    /** What a fused op must equal its composite within: relative L2 in float32, forward and every gradient. */
    static final double FUSED_TOLERANCE = 1e-6;

    /** Deterministic float32 values in [-1, 1). */
    static Tensor f32(long seed, long... shape) {
        return seeded(seed, shape).to(DType.FLOAT32);
    }

    /** fused and composite on the same leaves: equal outputs and equal gradients of a random projection of them. */
    static void assertSameWithGradients(Function<List<Tensor>, Tensor> fused, Function<List<Tensor>, Tensor> composite, Tensor... inputs) {
        List<Tensor> fusedGrads = new ArrayList<>(), compositeGrads = new ArrayList<>();
        Tensor a = outputAndGradients(fused, inputs, fusedGrads);
        Tensor b = outputAndGradients(composite, inputs, compositeGrads);
        assertRelativeL2(b, a, "output");
        for (int i = 0; i < inputs.length; i++) assertRelativeL2(compositeGrads.get(i), fusedGrads.get(i), "gradient of input " + i);
    }

    static Tensor outputAndGradients(Function<List<Tensor>, Tensor> f, Tensor[] inputs, List<Tensor> grads) {
        List<Tensor> leaves = new ArrayList<>();
        for (Tensor t : inputs) leaves.add(t.detach().requiresGrad(true));
        Tensor out = f.apply(leaves);
        Tensor weights = f32(99, out.shape());
        grads.addAll(Autograd.grad(List.of(out.mul(weights).sum()), leaves, null, false, false));
        return out.detach();
    }

    static void assertRelativeL2(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double error = actual.to(DType.FLOAT64).sub(expected.to(DType.FLOAT64)).norm(2, null, false).item();
        double scale = expected.to(DType.FLOAT64).norm(2, null, false).item();
        assertTrue(scale > 0, what + ": the reference is all zeros");
        assertTrue(error <= FUSED_TOLERANCE * scale, what + ": relative L2 error " + error / scale);
    }
}
