package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dit4j.bindings.TorchException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The fused adaLN ops (lnModulate, gatedResidual) against the composite of ops they stand for: on
 * the CPU equal outputs and input gradients to 1e-6 relative L2 in float32, finite-difference
 * gradients in float64, and errors that name the bad argument. (Their CUDA kernels are checked on
 * a GPU by bench's FusedKernelsCheck.)
 */
class FusedAdaLnTest extends TestSupport {
    private static final double EPS = 1e-6;

    /** layer_norm over D without affine, then * (1 + scale) + shift as one addcmul, as the models' AdaLnZero has it. */
    private static Tensor lnModulateComposite(Tensor x, Tensor shift, Tensor scale, double eps) {
        Tensor normed = Functional.layerNorm(x, new long[] {x.size(-1)}, null, null, eps);
        return shift.unsqueeze(1).addcmul(normed, scale.unsqueeze(1).add(1));
    }

    private static Tensor gatedResidualComposite(Tensor x, Tensor gate, Tensor y) {
        return x.addcmul(gate.unsqueeze(1), y);
    }

    @Test
    void lnModulateIsTheTextbookFormula() {
        // independent of addcmul: (x - mean) / sqrt(var + eps) * (1 + scale) + shift, biased variance
        Tensor x = f32(23, 2, 3, 6).mul(4), shift = f32(24, 2, 6), scale = f32(25, 2, 6);
        Tensor mean = x.mean(new long[] {-1}, true);
        Tensor centered = x.sub(mean);
        Tensor variance = centered.square().mean(new long[] {-1}, true);
        Tensor expected = centered.div(variance.add(EPS).sqrt()).mul(scale.unsqueeze(1).add(1)).add(shift.unsqueeze(1));
        assertRelativeL2(expected, Functional.lnModulate(x, shift, scale, EPS), "lnModulate");
        Tensor gate = f32(26, 2, 6), y = f32(27, 2, 3, 6);
        assertRelativeL2(x.add(gate.unsqueeze(1).mul(y)), Functional.gatedResidual(x, gate, y), "gatedResidual");
    }

    @Test
    void lnModulateIsLayerNormThenModulate() {
        Tensor x = f32(1, 2, 5, 8).mul(3).add(0.5), shift = f32(2, 2, 8), scale = f32(3, 2, 8);
        assertSameWithGradients(in -> Functional.lnModulate(in.get(0), in.get(1), in.get(2), EPS),
                in -> lnModulateComposite(in.get(0), in.get(1), in.get(2), EPS), x, shift, scale);
    }

    @Test
    void lnModulateTakesChunksOfTheModulationVector() {
        // adaLN's [N, 6D] output chunked: shift and scale are strided views, not copies
        Tensor x = f32(4, 3, 7, 16), modulation = f32(5, 3, 6 * 16);
        assertSameWithGradients(in -> {
            List<Tensor> m = in.get(1).chunk(6, 1);
            return Functional.lnModulate(in.get(0), m.get(0), m.get(1), EPS);
        }, in -> {
            List<Tensor> m = in.get(1).chunk(6, 1);
            return lnModulateComposite(in.get(0), m.get(0), m.get(1), EPS);
        }, x, modulation);
    }

    @Test
    void lnModulateHonoursEps() {
        Tensor x = f32(6, 2, 3, 4).mul(1e-2), shift = f32(7, 2, 4), scale = f32(8, 2, 4);
        assertRelativeL2(lnModulateComposite(x, shift, scale, 0.1), Functional.lnModulate(x, shift, scale, 0.1), "eps 0.1");
    }

    @Test
    void gatedResidualIsXPlusGateTimesY() {
        Tensor x = f32(9, 2, 5, 8), gate = f32(10, 2, 8), y = f32(11, 2, 5, 8);
        assertSameWithGradients(in -> Functional.gatedResidual(in.get(0), in.get(1), in.get(2)),
                in -> gatedResidualComposite(in.get(0), in.get(1), in.get(2)), x, gate, y);
    }

    @Test
    void lnModulateGradientMatchesFiniteDifferences() {
        GradCheck.check("lnModulate", in -> Functional.lnModulate(in.get(0), in.get(1), in.get(2), EPS),
                seeded(12, 2, 3, 5), seeded(13, 2, 5), seeded(14, 2, 5));
    }

    @Test
    void gatedResidualGradientMatchesFiniteDifferences() {
        GradCheck.check("gatedResidual", in -> Functional.gatedResidual(in.get(0), in.get(1), in.get(2)),
                seeded(15, 2, 3, 5), seeded(16, 2, 5), seeded(17, 2, 3, 5));
    }

    @Test
    void underAutocastTheResultIsTheCompositesDtype() {
        Tensor x = f32(18, 2, 4, 8), shift = f32(19, 2, 8).to(DType.BFLOAT16), scale = f32(20, 2, 8).to(DType.BFLOAT16);
        Tensor gate = f32(21, 2, 8).to(DType.BFLOAT16), y = f32(22, 2, 4, 8).to(DType.BFLOAT16);
        try (Autocast.Region r = Autocast.enable(Device.CPU, DType.BFLOAT16)) {
            Tensor fused = Functional.lnModulate(x, shift, scale, EPS), composite = lnModulateComposite(x, shift, scale, EPS);
            assertEquals(composite.dtype(), fused.dtype());
            assertRelativeL2(composite, fused, "lnModulate under autocast");
            Tensor residual = Functional.gatedResidual(x, gate, y);
            assertEquals(DType.FLOAT32, residual.dtype(), "float32 x, bfloat16 gate and y promote to float32");
            assertRelativeL2(gatedResidualComposite(x, gate, y), residual, "gatedResidual under autocast");
        }
    }

    @Test
    void badShapesAreNamed() {
        Tensor x = Tensor.zeros(2, 5, 8), v = Tensor.zeros(2, 8);
        fails(() -> Functional.lnModulate(Tensor.zeros(10, 8), v, v, EPS), "dt_ln_modulate", "'x'", "3-d [N, L, D]", "[10, 8]");
        fails(() -> Functional.lnModulate(x, Tensor.zeros(3, 8), v, EPS), "'shift'", "[N, D] = [2, 8]", "[3, 8]");
        fails(() -> Functional.lnModulate(x, v, Tensor.zeros(2, 1, 8), EPS), "'scale'", "[N, D] = [2, 8]", "[2, 1, 8]");
        fails(() -> Functional.lnModulate(x, v, v, -1), "'eps'", ">= 0");
        fails(() -> Functional.gatedResidual(x, Tensor.zeros(2, 7), x), "dt_gated_residual", "'gate'", "[N, D] = [2, 8]", "[2, 7]");
        fails(() -> Functional.gatedResidual(x, v, Tensor.zeros(2, 4, 8)), "'y'", "shape of 'x' [2, 5, 8]", "[2, 4, 8]");
        fails(() -> Functional.gatedResidual(x, null, x), "'gate'", "NULL");
    }

    @Test
    void badDtypesAreNamed() {
        Tensor x = Tensor.zeros(2, 5, 8), v = Tensor.zeros(2, 8);
        Tensor ints = Tensor.zeros(new long[] {2, 8}, DType.INT64, Device.CPU);
        fails(() -> Functional.lnModulate(x, ints, v, EPS), "'shift'", "floating-point", "Long");
        fails(() -> Functional.lnModulate(Tensor.zeros(new long[] {2, 5, 8}, DType.INT32, Device.CPU), v, v, EPS), "'x'", "floating-point", "Int");
        fails(() -> Functional.gatedResidual(x, v, Tensor.zeros(new long[] {2, 5, 8}, DType.BOOL, Device.CPU)), "'y'", "floating-point", "Bool");
    }

    @Test
    void inputsOnTwoDevicesAreNamed() {
        assumeTrue(Torch.cudaAvailable(), "needs a CUDA device");
        Tensor x = Tensor.zeros(2, 5, 8), v = Tensor.zeros(2, 8), onGpu = v.to(Device.cuda(0));
        fails(() -> Functional.lnModulate(x, onGpu, v, EPS), "'shift'", "cuda:0", "cpu", "one device");
        fails(() -> Functional.gatedResidual(x, v, x.to(Device.cuda(0))), "'y'", "cuda:0", "one device");
    }

    @Test
    void failedCallsLeaveNoTensorBehind() {
        long before = Torch.liveTensors();
        Tensor x = Tensor.zeros(2, 5, 8);
        for (int i = 0; i < 3; i++) {
            assertThrows(TorchException.class, () -> Functional.lnModulate(x, x, x, EPS));
            assertThrows(TorchException.class, () -> Functional.gatedResidual(x, x, x));
        }
        assertEquals(before + 1, Torch.liveTensors(), "only x is alive");
    }

    private static void fails(Executable call, String... words) {
        TorchException e = assertThrows(TorchException.class, call);
        assertEquals(TorchException.Kind.ARGUMENT, e.kind(), e.getMessage());
        for (String w : words) assertTrue(e.getMessage().contains(w), "message should mention '" + w + "': " + e.getMessage());
    }
}
