package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import org.junit.jupiter.api.Test;

/** Input checking, the conditioning kinds and training-mode label dropout on tiny U-ViTs. */
class UViTInputTest {
    private static final UViT.Config CLASS = UViT.IMAGENET256_L_2.withWidth(64, 4).withDepth(2).withImgSize(8)
            .withClasses(10, true).withLabelDropout(0.999999);
    private static final UViT.Config UNCOND = CLASS.unconditional().withInChannels(3);
    private static final UViT.Config TEXT = CLASS.withContext(16, 5);

    @Test
    void badInputsAreReportedClearly() {
        long live = Torch.liveTensors();
        try (UViT model = CLASS.create(Device.CPU, 1); TensorScope s = TensorScope.open()) {
            model.eval();
            Tensor t = Tensor.full(10, new long[] {2}, DType.FLOAT32, Device.CPU);
            Tensor y = Tensor.of(new long[] {1, 10}, 2);
            Tensor x16 = Tensor.zeros(new long[] {2, 4, 16, 16}, DType.FLOAT32, Device.CPU);
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> model.forward(x16, t, y));
            assertTrue(size.getMessage().contains("[N, 4, 8, 8]") && size.getMessage().contains("[2, 4, 16, 16]"), size.getMessage());
            Tensor x = Tensor.zeros(new long[] {2, 4, 8, 8}, DType.FLOAT32, Device.CPU);
            assertArrayEquals(new long[] {2, 4, 8, 8}, model.forward(x, t, y).shape());
            IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> model.forward(x, t, Tensor.of(new long[] {1, 11}, 2)));
            assertTrue(range.getMessage().contains("[0, 11)"), range.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.forward(x, t, (Tensor) null));
            assertThrows(IllegalArgumentException.class, () -> model.forward(x, Tensor.zeros(3), y));
            assertThrows(IllegalArgumentException.class, () -> model.guided(Conditioning.labels(y.narrow(0, 0, 1), 10), 1).doubled()
                    .apply(x.narrow(0, 0, 1), t.narrow(0, 0, 1)));
        }
        try (UViT model = UNCOND.create(Device.CPU, 1); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.zeros(new long[] {2, 3, 8, 8}, DType.FLOAT32, Device.CPU);
            Tensor t = Tensor.zeros(2);
            assertArrayEquals(new long[] {2, 3, 8, 8}, model.forward(x, t, (Tensor) null).shape());
            assertThrows(IllegalArgumentException.class, () -> model.forward(x, t, Tensor.of(new long[] {0, 0}, 2)));
            assertThrows(IllegalArgumentException.class, () -> model.guided(Conditioning.labels(Tensor.of(new long[] {0}, 1), 10), 1));
            assertFalse(model.config().classConditional());
        }
        try (UViT model = TEXT.create(Device.CPU, 1); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.zeros(new long[] {2, 4, 8, 8}, DType.FLOAT32, Device.CPU);
            Tensor t = Tensor.zeros(2);
            Tensor ctx = Tensor.randn(2, 5, 16);
            assertArrayEquals(new long[] {2, 4, 8, 8}, model.forward(x, t, ctx).shape());
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> model.forwardText(x, t, Tensor.randn(2, 77, 16)));
            assertTrue(bad.getMessage().contains("[N, 5, 16]"), bad.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.guided(Conditioning.labels(Tensor.of(new long[] {0}, 1), 10), 1));
            // guidance scale 0 is the conditional prediction; the empty context may be one [T, Dc] table
            Tensor plain = model.forwardText(x, t, ctx);
            Tensor unguided = model.guided(Conditioning.text(ctx, Tensor.randn(5, 16)), 1).apply(x, t);
            assertTrue(plain.allclose(unguided, 1e-5, 1e-6));
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void trainingModeDropsLabelsToTheNullLabel() {
        long live = Torch.liveTensors();
        try (UViT model = CLASS.create(Device.CPU, 2); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.randn(2, 4, 8, 8);
            Tensor t = Tensor.full(500, new long[] {2}, DType.FLOAT32, Device.CPU);
            model.eval();
            Tensor nullOut = model.forward(x, t, Tensor.of(new long[] {10, 10}, 2));
            Tensor labelled = model.forward(x, t, Tensor.of(new long[] {3, 4}, 2));
            assertFalse(nullOut.allclose(labelled, 1e-4, 1e-5), "labels change the output");
            model.train(true);
            Tensor dropped = model.forward(x, t, Tensor.of(new long[] {3, 4}, 2));
            assertTrue(nullOut.allclose(dropped, 1e-5, 1e-6), "with p = 0.999999 every label is dropped in training");
            // guidance doubles the guided eps into both halves and is eps_c + s (eps_c - eps_u)
            model.eval();
            Tensor both = Tensor.cat(java.util.List.of(x.narrow(0, 0, 1), x.narrow(0, 0, 1)), 0);
            Tensor out = model.forward(both, t, Tensor.of(new long[] {3, 10}, 2));
            Tensor cfg = model.guided(Conditioning.labels(Tensor.of(new long[] {3}, 1), 10), 1.4).doubled().apply(x, t);
            Tensor c = out.narrow(0, 0, 1), u = out.narrow(0, 1, 1);
            Tensor expected = c.mul(1.4).sub(u.mul(0.4));
            assertTrue(cfg.narrow(0, 0, 1).allclose(expected, 1e-5, 1e-6));
            assertTrue(cfg.narrow(0, 1, 1).allclose(expected, 1e-5, 1e-6));
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
