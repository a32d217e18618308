package dev.dit4j.models.flops;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiT;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.FlopCounter.Op;
import dev.dit4j.nn.Torch;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** DiT's parameters and MACs counted from the ops a forward pass runs, checked against the closed form. */
class ModelFlopsTest {
    /** DiT's MACs in closed form: blocks (qkv, proj, MLP, QK^T, AV, adaLN) + patch conv + t-MLP + final layer. */
    static long ditMacs(DiT.Config c) {
        long d = c.hidden(), t = c.tokens(), p2 = (long) c.patch() * c.patch();
        long block = 12 * d * d * t + 2 * t * t * d + 6 * d * d;
        return c.depth() * block + t * d * c.inChannels() * p2 + 256 * d + d * d + 2 * d * d + t * d * p2 * c.outChannels();
    }

    private static void check(DiT.Config config, String mparams) {
        long live = Torch.liveTensors();
        FlopSubject subject = FlopSubject.classConditional(config.name(), device -> config.create(device, 0), config.inChannels(),
                config.inputSize(), config.numClasses(), null);
        ModelFlops.Result r = ModelFlops.measure(subject, Device.CPU);
        assertEquals(live, Torch.liveTensors(), "tensors leaked by the measurement");
        assertEquals(ditMacs(config), r.macs(), config.name() + " MACs");
        assertEquals(mparams, String.format(Locale.ROOT, "%.2f", r.mparams()), config.name() + " params (M)");
        assertEquals(Set.of(Op.LINEAR, Op.CONV2D, Op.SCALED_DOT_PRODUCT_ATTENTION, Op.LAYER_NORM), r.byOp().keySet());
        long d = config.hidden(), t = config.tokens();
        // two norms per block and one in the final layer, no affine: 4 FLOPs per element, kept out of the MACs
        assertEquals((2L * config.depth() + 1) * t * d * 4, r.byOp().get(Op.LAYER_NORM), "layer-norm FLOPs");
        assertEquals(config.depth() * 2 * t * t * d, r.byOp().get(Op.SCALED_DOT_PRODUCT_ATTENTION), "attention MACs");
    }

    @Test
    void ditS8() {
        check(DiT.S_8, "33.15");
    }

    @Test
    void ditS2() {
        check(DiT.S_2, "32.96");
    }

    @Test
    void ditB4() {
        check(DiT.B_4, "130.48");
    }

    @Test
    void aReferenceMatchesToTheDecimalsItPrints() {
        long macs = 118_621_421_568L;
        assertTrue(new ModelFlops.Result("x", 0, macs, Map.of(), "118.6").matchesReference());
        assertTrue(new ModelFlops.Result("x", 0, macs, Map.of(), "118.62").matchesReference());
        assertFalse(new ModelFlops.Result("x", 0, macs, Map.of(), "118.7").matchesReference());
        assertFalse(new ModelFlops.Result("x", 0, macs, Map.of(), null).matchesReference());
    }
}
