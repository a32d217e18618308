package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Autocast regions against explicit casts, on the CPU (libtorch's CPU autocast takes bfloat16 like CUDA's). */
class AutocastTest extends TestSupport {
    private static double l2(Tensor t) {
        return Math.sqrt(t.square().sum().item());
    }

    @Test
    void linearRunsInBfloat16InsideARegionAndEqualsAnExplicitCast() {
        Tensor x = f32(1, 4, 8);
        Tensor w = f32(2, 3, 8);
        Tensor b = f32(3, 3);
        Tensor inside;
        try (Autocast.Region r = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
            assertTrue(Autocast.isEnabled(Device.CPU));
            assertEquals(DType.BFLOAT16, Autocast.dtype(Device.CPU));
            inside = Functional.linear(x, w, b);
        }
        assertFalse(Autocast.isEnabled(Device.CPU));
        assertEquals(DType.BFLOAT16, inside.dtype());
        Tensor explicit = Functional.linear(x.to(DType.BFLOAT16), w.to(DType.BFLOAT16), b.to(DType.BFLOAT16));
        assertClose(explicit.to(DType.FLOAT64), inside.to(DType.FLOAT64), 0);
        assertEquals(DType.FLOAT32, Functional.linear(x, w, b).dtype(), "outside the region float32 stays float32");
    }

    @Test
    void gradientsReachFloat32MasterWeightsInFloat32() {
        Tensor x = f32(4, 5, 6);
        Tensor w = f32(5, 2, 6).requiresGrad(true);
        Tensor loss;
        try (Autocast.Region r = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
            loss = Functional.linear(x, w, null).to(DType.FLOAT32).square().sum();
        }
        loss.backward();
        Tensor grad = w.grad();
        assertEquals(DType.FLOAT32, grad.dtype());
        // d/dw sum((x w^T)^2) = 2 (x w^T)^T x, computed here in float64; bfloat16 keeps ~3 significant digits.
        Tensor x64 = x.to(DType.FLOAT64);
        Tensor w64 = w.detach().to(DType.FLOAT64);
        Tensor expected = Functional.linear(x64, w64, null).transpose(0, 1).matmul(x64).mul(2);
        double rel = l2(grad.to(DType.FLOAT64).sub(expected)) / l2(expected);
        assertTrue(rel < 2e-2, "bfloat16 gradient relative error " + rel);
        assertTrue(rel > 0, "the region really ran in reduced precision");
    }

    @Test
    void regionsNestAndRestoreTheStateFoundOnEntry() {
        try (Autocast.Region outer = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
            try (Autocast.Region off = Autocast.disable(Device.CPU)) {
                assertFalse(Autocast.isEnabled(Device.CPU));
                assertEquals(DType.FLOAT32, Functional.linear(f32(1, 2, 3), f32(2, 2, 3), null).dtype());
            }
            assertTrue(Autocast.isEnabled(Device.CPU));
            assertEquals(DType.BFLOAT16, Autocast.dtype(Device.CPU));
            outer.close();
            outer.close(); // closing twice is harmless
            assertFalse(Autocast.isEnabled(Device.CPU));
        }
        assertFalse(Autocast.isEnabled(Device.CPU));
    }

    @Test
    void onlyReducedPrecisionDtypesAreAccepted() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Autocast.enable(Device.CPU, DType.FLOAT32));
        assertTrue(e.getMessage().contains("FLOAT32"), e.getMessage());
        assertFalse(Autocast.isEnabled(Device.CPU));
    }

    @Test
    void attentionCastsMixedInputsToTheRegionsDtypeAsTorchAutocastDoes() {
        // a float32 query (from a norm, which autocast keeps in float32) and bfloat16 keys and values (from linear layers)
        Tensor q = f32(7, 2, 3, 8, 16);
        Tensor k = f32(8, 2, 3, 8, 16).to(DType.BFLOAT16);
        Tensor v = f32(9, 2, 3, 8, 16).to(DType.BFLOAT16);
        Tensor inside;
        try (Autocast.Region r = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
            inside = Functional.scaledDotProductAttention(q, k, v);
        }
        assertEquals(DType.BFLOAT16, inside.dtype());
        Tensor explicit = Functional.scaledDotProductAttention(q.to(DType.BFLOAT16), k, v);
        assertClose(explicit.to(DType.FLOAT64), inside.to(DType.FLOAT64), 0);
        Exception outside = assertThrows(RuntimeException.class, () -> Functional.scaledDotProductAttention(q, k, v));
        assertTrue(outside.getMessage().contains("same dtype"), "outside a region mixed dtypes stay an error: " + outside.getMessage());
    }
}
