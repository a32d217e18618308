package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.FlopCounter.Op;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.SelfAttention;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Each counted op against its multiply-accumulate count written out by hand. */
class FlopCounterTest extends TestSupport {
    private static Tensor r(long... shape) {
        return Tensor.randn(shape);
    }

    /** MACs counted while running op, checking it is booked under the expected kind only. */
    private static long count(Op expected, Supplier<Tensor> op) {
        try (FlopCounter c = FlopCounter.start()) {
            op.get();
            assertEquals(Map.of(expected, c.macs()), c.byOp(), "booked under " + expected);
            return c.macs();
        }
    }

    @Test
    void linearCountsRowsTimesInTimesOut() {
        assertEquals(2 * 3 * 5 * 7, count(Op.LINEAR, () -> Functional.linear(r(2, 3, 5), r(7, 5), r(7))));
        assertEquals(5 * 7, count(Op.LINEAR, () -> Functional.linear(r(5), r(7, 5), null)));
    }

    @Test
    void matrixProducts() {
        assertEquals(4 * 5 * 6, count(Op.ADDMM, () -> Functional.addmm(r(4, 6), r(4, 5), r(5, 6), 1, 1)));
        assertEquals(3 * 4 * 5, count(Op.MM, () -> r(3, 4).mm(r(4, 5))));
        assertEquals(2 * 3 * 4 * 5, count(Op.BMM, () -> r(2, 3, 4).bmm(r(2, 4, 5))));
        // broadcast batch [2, 1] x [5] -> [2, 5]
        assertEquals(2 * 5 * 3 * 4 * 6, count(Op.MATMUL, () -> r(2, 1, 3, 4).matmul(r(5, 4, 6))));
        assertEquals(4, count(Op.MATMUL, () -> r(4).matmul(r(4))));
        assertEquals(3 * 4, count(Op.MATMUL, () -> r(3, 4).matmul(r(4))));
        assertEquals(4 * 6, count(Op.MATMUL, () -> r(4).matmul(r(4, 6))));
    }

    @Test
    void conv2dCountsOutputsTimesFilterSize() {
        // out [1, 6, 8, 8], each output 4*3*3 MACs
        assertEquals(6 * 64 * 4 * 9, count(Op.CONV2D, () -> Functional.conv2d(r(1, 4, 8, 8), r(6, 4, 3, 3), r(6), 1, 1, 1)));
        // stride 2, no padding: out [2, 6, 3, 3]
        assertEquals(2 * 6 * 9 * 4 * 9, count(Op.CONV2D, () -> Functional.conv2d(r(2, 4, 8, 8), r(6, 4, 3, 3), null, 2, 0, 1)));
        // patchify (k = s = 2): out [1, 5, 4, 4], each 4*2*2
        assertEquals(5 * 16 * 16, count(Op.CONV2D, () -> Functional.conv2d(r(1, 4, 8, 8), r(5, 4, 2, 2), null, 2, 0, 1)));
        // groups 2: each output sees 4/2 channels
        assertEquals(6 * 64 * 2 * 9, count(Op.CONV2D, () -> Functional.conv2d(r(1, 4, 8, 8), r(6, 2, 3, 3), null, 1, 1, 2)));
        // depthwise 5x5: one input channel per output
        assertEquals(2 * 6 * 64 * 25, count(Op.CONV2D, () -> Functional.conv2d(r(2, 6, 8, 8), r(6, 1, 5, 5), null, 1, 2, 6)));
    }

    @Test
    void convTranspose2dCountsInputsTimesFilterSize() {
        long[] s2 = {2, 2}, zero = {0, 0}, one = {1, 1};
        // weight [in 4, out 3, 2, 2]: every input pixel of every channel meets 3*2*2 weights
        assertEquals(4 * 25 * 3 * 4, count(Op.CONV_TRANSPOSE2D,
                () -> Functional.convTranspose2d(r(1, 4, 5, 5), r(4, 3, 2, 2), r(3), s2, zero, zero, one, 1)));
        // groups 2: weight [4, 1, 2, 2], out channels 2
        assertEquals(2 * 4 * 25 * 4, count(Op.CONV_TRANSPOSE2D,
                () -> Functional.convTranspose2d(r(2, 4, 5, 5), r(4, 1, 2, 2), null, s2, zero, zero, one, 2)));
    }

    @Test
    void attentionCountsBothProductsAndIgnoresMasks() {
        long qk = 2 * 3 * 5 * 7 * 8, av = 2 * 3 * 5 * 7 * 4;
        assertEquals(qk + av, count(Op.SCALED_DOT_PRODUCT_ATTENTION,
                () -> Functional.scaledDotProductAttention(r(2, 3, 5, 8), r(2, 3, 7, 8), r(2, 3, 7, 4))));
        Tensor mask = Tensor.ones(new long[] {5, 7}, DType.BOOL, Device.CPU).tril(0);
        assertEquals(qk + av, count(Op.SCALED_DOT_PRODUCT_ATTENTION, () -> Functional.scaledDotProductAttention(
                r(2, 3, 5, 8), r(2, 3, 7, 8), r(2, 3, 7, 4), mask, 0, false, 0, SdpaBackend.AUTO).output()));
    }

    @Test
    void layersAreCountedThroughTheirOps() {
        try (Generator g = Generator.cpu(0);
             SelfAttention attn = new SelfAttention(VarBuilder.init(DType.FLOAT32, Device.CPU, g), SelfAttention.of(16, 4).withQkvBias(true));
             Linear lin = new Linear(VarBuilder.init(DType.FLOAT32, Device.CPU, g), Linear.of(16, 8));
             Conv2d conv = new Conv2d(VarBuilder.init(DType.FLOAT32, Device.CPU, g), Conv2d.patchify(3, 16, 2));
             FlopCounter c = FlopCounter.start()) {
            attn.forward(r(2, 10, 16));
            long n = 2, l = 10, d = 16, heads = 4;
            long linear = n * l * d * 3 * d + n * l * d * d;
            long sdpa = n * heads * l * l * (d / heads) * 2;
            assertEquals(Map.of(Op.LINEAR, linear, Op.SCALED_DOT_PRODUCT_ATTENTION, sdpa), c.byOp());
            lin.forward(r(2, 10, 16));
            conv.forward(r(1, 3, 8, 8));
            assertEquals(linear + 2 * 10 * 16 * 8, c.byOp().get(Op.LINEAR));
            assertEquals(16 * 16 * 3 * 4, c.byOp().get(Op.CONV2D));
            assertEquals(linear + sdpa + 2 * 10 * 16 * 8 + 16 * 16 * 3 * 4, c.macs());
        }
    }

    @Test
    void countersNestAndStopWhenClosed() {
        Tensor a = r(3, 4), b = r(4, 5);
        FlopCounter outer = FlopCounter.start();
        a.mm(b);
        FlopCounter inner = FlopCounter.start();
        a.mm(b);
        assertThrows(IllegalStateException.class, outer::close, "outer closed before inner");
        inner.close();
        a.mm(b);
        outer.close();
        outer.close(); // idempotent
        a.mm(b);
        assertEquals(60, inner.macs());
        assertEquals(180, outer.macs());
        assertFalse(FlopCounter.active());
    }

    @Test
    void otherThreadsAreNotCounted() throws Exception {
        try (FlopCounter c = FlopCounter.start()) {
            Thread t = new Thread(() -> {
                try (TensorScope s = TensorScope.open()) {
                    r(3, 4).mm(r(4, 5));
                }
            });
            t.start();
            t.join();
            assertEquals(0, c.macs());
            assertTrue(c.byOp().isEmpty());
        }
    }

    @Test
    void elementwiseOpsAreNotCounted() {
        try (FlopCounter c = FlopCounter.start()) {
            Tensor x = r(4, 8);
            x.mul(x).add(1).exp().sum();
            Functional.layerNorm(x, new long[] {8}, null, null, 1e-6);
            Functional.softmax(x, -1);
            assertEquals(0, c.macs());
        }
    }

    @Test
    void layerNormsAreTalliedApartAsFvcoreCountsThem() {
        try (FlopCounter c = FlopCounter.start()) {
            Tensor x = r(4, 8);
            Functional.layerNorm(x, new long[] {8}, null, null, 1e-6);      // 32 elements x 4
            Functional.layerNorm(x, new long[] {8}, r(8), r(8), 1e-6);     // 32 elements x 5 (affine)
            assertEquals(0, c.macs(), "norms stay out of the MAC total");
            assertEquals(Map.of(Op.LAYER_NORM, 32L * 4 + 32L * 5), c.byOp());
        }
    }
}
