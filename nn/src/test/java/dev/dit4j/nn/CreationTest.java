package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class CreationTest extends TestSupport {
    @Test
    void factoriesGiveShapesDtypesAndValues() {
        Tensor z = Tensor.zeros(new long[] {2, 3}, DType.FLOAT64, Device.CPU);
        assertArrayEquals(new long[] {2, 3}, z.shape());
        assertEquals(DType.FLOAT64, z.dtype());
        assertEquals(Device.CPU, z.device());
        assertArrayEquals(new double[6], z.toDoubleArray());
        assertArrayEquals(new float[] {1, 1, 1, 1}, Tensor.ones(2, 2).toFloatArray());
        assertArrayEquals(new double[] {2.5, 2.5}, Tensor.full(2.5, new long[] {2}, DType.FLOAT32, Device.CPU).toDoubleArray());
        assertArrayEquals(new long[] {0, 1, 2, 3}, Tensor.arange(4).toLongArray());
        assertArrayEquals(new double[] {1, 1.5, 2}, Tensor.arange(1, 2.5, 0.5, DType.FLOAT64, Device.CPU).toDoubleArray());
        assertArrayEquals(new double[] {0, 0.25, 0.5, 0.75, 1}, Tensor.linspace(0, 1, 5, DType.FLOAT64, Device.CPU).toDoubleArray(), 1e-15);
        assertEquals(3.0, Tensor.scalar(3).item());
        assertEquals(0, Tensor.scalar(3).dim());
    }

    @Test
    void everyDtypeRoundTrips() {
        for (DType d : DType.values()) {
            Tensor t = Tensor.of(new double[] {0, 1, 2}, 3).to(d);
            assertEquals(d, t.dtype(), "dtype " + d);
            assertArrayEquals(new double[] {0, 1, 2}, t.toDoubleArray(), d == DType.BOOL ? 1 : 0, "values as " + d);
        }
        assertArrayEquals(new boolean[] {true, false}, toBooleans(Tensor.of(new boolean[] {true, false}, 2)));
        assertArrayEquals(new int[] {7, -3}, Tensor.of(new int[] {7, -3}, 2).toIntArray());
        assertArrayEquals(new long[] {255, 0}, Tensor.of(new byte[] {(byte) 255, 0}, 2).toLongArray());
    }

    private static boolean[] toBooleans(Tensor t) {
        long[] v = t.toLongArray();
        boolean[] b = new boolean[v.length];
        for (int i = 0; i < v.length; i++) b[i] = v[i] != 0;
        return b;
    }

    @Test
    void seededGeneratorsRepeatAndDiffer() {
        try (Generator g1 = Generator.cpu(42); Generator g2 = Generator.cpu(42); Generator g3 = Generator.cpu(43)) {
            long[] shape = {1000};
            double[] a = Tensor.randn(shape, DType.FLOAT64, Device.CPU, g1).toDoubleArray();
            double[] b = Tensor.randn(shape, DType.FLOAT64, Device.CPU, g2).toDoubleArray();
            double[] c = Tensor.randn(shape, DType.FLOAT64, Device.CPU, g3).toDoubleArray();
            assertArrayEquals(a, b);
            assertFalse(java.util.Arrays.equals(a, c));
            double mean = java.util.Arrays.stream(a).average().orElseThrow();
            double var = java.util.Arrays.stream(a).map(x -> (x - mean) * (x - mean)).sum() / a.length;
            assertEquals(0, mean, 0.1);
            assertEquals(1, var, 0.15);
            double[] u = Tensor.rand(shape, DType.FLOAT64, Device.CPU, g1).toDoubleArray();
            assertTrue(java.util.Arrays.stream(u).allMatch(x -> x >= 0 && x < 1));
            long[] r = Tensor.randint(3, 7, shape, Device.CPU, g1).toLongArray();
            assertTrue(java.util.Arrays.stream(r).allMatch(x -> x >= 3 && x < 7));
            assertEquals(4, java.util.Arrays.stream(r).distinct().count());
            long[] perm = Tensor.randperm(10, Device.CPU, g1).toLongArray();
            assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, java.util.Arrays.stream(perm).sorted().toArray());
        }
    }

    @Test
    void generatorStateRestoresTheSequence() {
        try (Generator g = Generator.cpu(7)) {
            Tensor state = g.state();
            double[] first = Tensor.randn(new long[] {5}, DType.FLOAT64, Device.CPU, g).toDoubleArray();
            g.setState(state);
            assertArrayEquals(first, Tensor.randn(new long[] {5}, DType.FLOAT64, Device.CPU, g).toDoubleArray());
        }
        Torch.manualSeed(11);
        double[] a = Tensor.randn(4).toDoubleArray();
        Torch.manualSeed(11);
        assertArrayEquals(a, Tensor.randn(4).toDoubleArray());
        Tensor saved = Generator.defaultState(Device.CPU);
        double[] b = Tensor.randn(4).toDoubleArray();
        Generator.setDefaultState(Device.CPU, saved);
        assertArrayEquals(b, Tensor.randn(4).toDoubleArray());
    }

    @Test
    void truncatedNormalStaysInsideItsBounds() {
        try (Generator g = Generator.cpu(3)) {
            double[] v = Tensor.zeros(new long[] {5000}, DType.FLOAT64, Device.CPU).truncNormal_(0, 1, -0.5, 0.5, g).toDoubleArray();
            assertTrue(java.util.Arrays.stream(v).allMatch(x -> x >= -0.5 && x <= 0.5));
            assertTrue(java.util.Arrays.stream(v).anyMatch(x -> x < -0.4) && java.util.Arrays.stream(v).anyMatch(x -> x > 0.4));
        }
    }

    @Test
    void conversionsChangeDtypeAndKeepValues() {
        Tensor t = Tensor.of(new float[] {1.5f, -2.25f}, 2);
        assertArrayEquals(new double[] {1.5, -2.25}, t.to(DType.FLOAT64).toDoubleArray());
        assertArrayEquals(new double[] {1.5, -2.25}, t.to(DType.BFLOAT16).toDoubleArray());
        assertArrayEquals(new long[] {1, -2}, t.to(DType.INT64).toLongArray());
        Tensor same = t.to(Device.CPU, DType.FLOAT32);
        assertTrue(same.isSameAs(t) || java.util.Arrays.equals(same.toFloatArray(), t.toFloatArray()));
        Tensor c = t.clone();
        c.fill_(0);
        assertArrayEquals(new float[] {1.5f, -2.25f}, t.toFloatArray(), "clone must not share memory");
        c.copy_(t);
        assertArrayEquals(t.toFloatArray(), c.toFloatArray());
        assertArrayEquals(new float[] {0, 0}, c.zero_().toFloatArray());
    }
}
