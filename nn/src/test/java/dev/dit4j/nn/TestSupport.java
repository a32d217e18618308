package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
