package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** MicroDiT's presets against the authors' structure, its input checks, and a masked training run on CPU. */
class MicroDiTTest {
    /** A MicroDiT small enough to train in a unit test: 4x8x8 latents (16 tokens), 7 caption tokens of width 16. */
    static final MicroDiT.Config SMALL = MicroDiT.TINY_2.with(b -> b.inputSize(8).dim(32).depth(2).headDim(16).multipleOf(32)
            .captionChannels(16).mixerDepth(2).mixerDim(32));

    @Test
    void tinyPresetHasTheAuthorsParametersKeysAndShapes() {
        try (Safetensors.Contents ref = Fixtures.load("microdit_256.safetensors")) {
            Map<String, String> meta = ref.metadata();
            try (MicroDiT tiny = MicroDiT.TINY_2.create(DType.BFLOAT16, Device.CPU, 0)) {
                assertEquals(Long.parseLong(meta.get("params.MicroDiT_Tiny_2")), tiny.parameterCount(), "MicroDiT_Tiny_2 parameters");
                assertEquals(200_692_752L, tiny.parameterCount());
                Map<String, String> shapes = new LinkedHashMap<>();
                tiny.stateDict().forEach((k, v) -> shapes.put(k, String.join("x", java.util.Arrays.stream(v.shape()).mapToObj(Long::toString).toList())));
                Map<String, String> expected = new LinkedHashMap<>();
                for (String kv : meta.get("shapes.MicroDiT_Tiny_2").split(";")) expected.put(kv.substring(0, kv.indexOf(':')), kv.substring(kv.indexOf(':') + 1));
                assertEquals(expected, shapes, "state-dict keys, order and shapes of the authors' MicroDiT_Tiny_2");
            }
            assertEquals("1165442320", meta.get("params.MicroDiT_XL_2"), "the authors' XL count (dit4j's: ./dit4j flops --models MicroDiT)");
        }
    }

    @Test
    void xlWidthsFollowTheAuthorsRounding() {
        MicroDiT.Config xl = MicroDiT.XL_2;
        long[] qkv = new long[xl.depth()];
        for (int i = 0; i < qkv.length; i++) qkv[i] = xl.qkvHidden(i);
        assertArrayEquals(new long[] {512, 640, 640, 640, 640, 640, 640, 768, 768, 768, 768, 768, 768, 768, 896, 896, 896, 896, 896, 896, 896,
                1024, 1024, 1024, 1024, 1024, 1024, 1024}, qkv);
        List<Integer> moe = new ArrayList<>();
        for (int i = 0; i < xl.depth(); i++) if (xl.moe(i)) moe.add(i);
        assertEquals(List.of(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25), moe, "MoE every second block, never the last");
        assertTrue(xl.mixerMoe(1) && xl.mixerMoe(3) && xl.mixerMoe(5) && !xl.mixerMoe(0));
        assertEquals(MicroDiT.XL_2_16CH, MicroDiT.PRESETS.get("microdit-xl-2-16ch"));
        assertEquals(MicroDiT.TINY_2, DiffusionConfig.preset("MicroDiT_Tiny_2").resized(4, 32));
    }

    @Test
    void badInputsAreNamed() {
        try (MicroDiT model = SMALL.create(Device.CPU, 0); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.zeros(2, 4, 8, 8), t = Tensor.zeros(2);
            var e = assertThrows(IllegalArgumentException.class, () -> model.forward(x, t, Tensor.zeros(2, 7, 15), null));
            assertTrue(e.getMessage().contains("[N, S, 16]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(Tensor.zeros(2, 3, 8, 8), t, Tensor.zeros(2, 7, 16), null));
            assertTrue(e.getMessage().contains("x [N, 4, 8, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(x, t, Conditioning.labels(Tensor.zeros(new long[] {2}, DType.INT64, Device.CPU), 10)));
            assertTrue(e.getMessage().contains("caption tokens"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> dev.dit4j.models.microdit.TokenMask.fromNoise(Tensor.zeros(2, 16), 1.0));
            assertTrue(e.getMessage().contains("[0, 1)"), e.getMessage());
        }
    }

    /** Deferred masking at 0.75 (4 of 16 tokens past the mixer), EDM loss, caption dropout 0.1: the loss falls. */
    @Test
    void trainsWithMaskingOnCpu() {
        long live = Torch.liveTensors();
        Tensor x, captions;
        try (Generator g = Generator.cpu(3); TensorScope s = TensorScope.open()) {
            // each latent constant per channel at +-0.9: structure a denoiser can learn (i.i.d. N(0, 0.9^2) data would leave nothing to learn under EDM)
            Tensor signs = Tensor.randint(0, 2, new long[] {8, 4, 1, 1}, Device.CPU, g).to(DType.FLOAT32).mul(1.8).sub(0.9);
            x = TensorScope.release(s.keep(signs.expand(8, 4, 8, 8).contiguous()));
            captions = TensorScope.release(s.keep(Tensor.randn(new long[] {8, 7, 16}, DType.FLOAT32, Device.CPU, g)));
        }
        DiffusionTrainer.Options options = DiffusionTrainer.Options.dit().withLr(3e-3).withWeightDecay(0.1).withGradClip(0.25)
                .withEmaDecay(0.99).withConditionDropout(0.1).withSeed(11);
        List<Double> losses = new ArrayList<>();
        try (MicroDiT m = SMALL.create(Device.CPU, 1); MicroDiT e = SMALL.create(Device.CPU, 1);
             DiffusionTrainer<MicroDiT> trainer = new DiffusionTrainer<>(m, e, new EdmObjective(Edm.microDiT256(), 0.75, 2), options)) {
            for (int i = 0; i < 60; i++) {
                try (Tensor loss = trainer.trainStep(x, Conditioning.text(captions))) {
                    losses.add(loss.item());
                }
            }
        }
        x.close();
        captions.close();
        double first = losses.subList(0, 15).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = losses.subList(45, 60).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        System.out.printf("MicroDiT masked training: mean loss steps 1-15 %.4f, steps 46-60 %.4f%n", first, last);
        assertTrue(last < 0.8 * first, "loss falls: " + first + " -> " + last);
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
