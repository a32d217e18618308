package dev.dit4j.models.text;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.UViT;
import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.models.train.VpSdeObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Caption-conditioned training through the trainer, with caption dropout in each model's null form. */
class TextToImageTrainingTest {
    private static final int WIDTH = 32, TOKENS = 5;
    static final MicroDiT.Config MICRO = new MicroDiT.Config("micro-test", 8, 2, 3, 64, 2, 32, 32, WIDTH, 1.0, 0.5, 1.0, 0.5, 2.0,
            1, 64, 2.0, 2, 2.0, 2);
    static final UViT.Config UVIT = UViT.MSCOCO_S_2.withName("uvit-text-test").withImgSize(8).withPatch(2).withInChannels(3)
            .withWidth(64, 2).withDepth(2).withContext(WIDTH, TOKENS);
    private static final DiffusionTrainer.Options OPTIONS = DiffusionTrainer.Options.dit().withLr(2e-3).withEmaDecay(0.9).withGradClip(1)
            .withSeed(3).withConditionDropout(0.3);

    @Test
    void microDiTLearnsCaptionedImagesWithDeferredMasking() {
        assertLossFalls(MICRO, () -> new EdmObjective(new Edm(0.5, -1.2, 1.2), 0.5, 2));
    }

    @Test
    void uvitTextVariantLearnsCaptionedImages() {
        assertLossFalls(UVIT, VpSdeObjective::uvit);
    }

    /** 40 steps on one captioned batch; the loss at fixed noise draws (the trainer draws fresh ones each step) must fall. */
    private static void assertLossFalls(ModelConfig<? extends DiffusionModel<?>> config, Supplier<TrainingObjective> objective) {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(7); TrainingObjective probe = objective.get();
             DiffusionModel<?> net = config.create(Device.CPU, 1); DiffusionModel<?> ema = config.create(Device.CPU, 2);
             DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, objective.get(), OPTIONS)) {
            // one colour per image: learnable in a few dozen steps, unlike white noise
            Tensor x = Tensor.rand(new long[] {8, 3, 1, 1}, DType.FLOAT32, Device.CPU, g).mul(2).add(-1).expand(8, 3, 8, 8).contiguous();
            Tensor tokens = Tensor.randn(new long[] {8, TOKENS, WIDTH}, DType.FLOAT32, Device.CPU, g);
            Tensor empty = Tensor.randn(new long[] {1, TOKENS, WIDTH}, DType.FLOAT32, Device.CPU, g);
            Conditioning c = CaptionConditioning.of(net, tokens, empty);
            double before = fixedDrawLoss(net, probe, x, c);
            for (int i = 0; i < 40; i++) trainer.trainStep(x, c).close();
            double after = fixedDrawLoss(net, probe, x, c);
            assertTrue(after < 0.8 * before, config.name() + ": loss at fixed draws " + before + " -> " + after);
        }
        assertEquals(live, Torch.liveTensors());
    }

    private static double fixedDrawLoss(DiffusionModel<?> net, TrainingObjective objective, Tensor x, Conditioning c) {
        try (TensorScope s = TensorScope.open(); var noGrad = dev.dit4j.nn.Autograd.noGrad(); Generator g = Generator.cpu(99)) {
            double sum = 0;
            for (int r = 0; r < 4; r++) sum += objective.losses((xt, t, keep) -> net.forward(xt, t, c, keep), x, g).mean().item();
            return sum / 4;
        }
    }

    @Test
    void eachModelDropsCaptionsToItsOwnNullForm() {
        try (TensorScope s = TensorScope.open(); MicroDiT micro = MICRO.create(Device.CPU, 1); UViT uvit = UVIT.create(Device.CPU, 1)) {
            Tensor tokens = Tensor.ones(new long[] {4, TOKENS, WIDTH}, DType.FLOAT32, Device.CPU);
            Tensor empty = Tensor.full(2, new long[] {1, TOKENS, WIDTH}, DType.FLOAT32, Device.CPU);
            assertEquals(0.0, CaptionConditioning.of(micro, tokens, empty).unconditional().tokens().abs().sum().item(), "MicroDiT: zeros");
            assertEquals(2.0 * 4 * TOKENS * WIDTH, CaptionConditioning.of(uvit, tokens, empty).unconditional().tokens().sum().item(), 1e-3,
                    "U-ViT: the empty caption's encoding");
        }
    }

    @Test
    void modelsWithoutTextOrOfAnotherWidthAreRefusedByName() {
        DiT.Config classes = new DiT.Config("class-dit", 1, 64, 4, 2, 4.0, 3, 8, 10, true, 0.1);
        try (TensorScope s = TensorScope.open(); DiT dit = classes.create(Device.CPU, 1); MicroDiT micro = MICRO.create(Device.CPU, 1);
             UViT uvit = UVIT.create(Device.CPU, 1)) {
            Tensor tokens = Tensor.zeros(new long[] {2, TOKENS, 48}, DType.FLOAT32, Device.CPU);
            var e = assertThrows(IllegalArgumentException.class, () -> CaptionConditioning.of(dit, tokens, null));
            assertTrue(e.getMessage().contains("class-dit has no text conditioning"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CaptionConditioning.of(micro, tokens, null));
            assertTrue(e.getMessage().contains("[N, T, 32]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> CaptionConditioning.of(uvit, Tensor.zeros(new long[] {2, TOKENS, WIDTH}), null));
            assertTrue(e.getMessage().contains("empty caption"), e.getMessage());
        }
    }
}
