package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UViTConfigTest {
    /** Counted by instantiating baofff/U-ViT's libs/uvit.py and libs/uvit_t2i.py with each config's nnet arguments. */
    private static final Map<String, Long> REFERENCE_COUNTS = Map.of(
            "cifar10_uvit_small", 44_255_328L, "celeba64_uvit_small", 44_292_228L,
            "imagenet64_uvit_mid", 130_940_292L, "imagenet64_uvit_large", 286_827_652L,
            "imagenet256_uvit_large", 286_763_172L, "imagenet256_uvit_huge", 500_832_016L,
            "imagenet512_uvit_large", 286_861_524L, "imagenet512_uvit_huge", 500_942_656L,
            "mscoco_uvit_small", 44_692_644L, "mscoco_uvit_small_deep", 58_345_636L);

    @Test
    void everyPresetHasTheReferenceParameterCount() {
        assertEquals(10, UViT.PRESETS.all().size());
        for (UViT.Config cfg : UViT.PRESETS.all()) assertEquals(REFERENCE_COUNTS.get(cfg.name()), cfg.parameterCount(), cfg.name());
    }

    @Test
    void theCountFromShapesIsWhatTheModelAllocates() {
        long live = Torch.liveTensors();
        // One preset at full size; every preset with its mid block alone (positions, embeddings, head,
        // conv and one block); the small ones with an in/out pair too (the count is linear in depth).
        try (UViT model = UViT.MSCOCO_S_2.create(Device.CPU, 0)) {
            assertEquals(UViT.MSCOCO_S_2.parameterCount(), model.parameterCount());
        }
        for (UViT.Config preset : UViT.PRESETS.all()) {
            for (int depth : preset.embedDim() == 512 ? new int[] {0, 2} : new int[] {0}) {
                UViT.Config cfg = preset.withDepth(depth);
                try (UViT model = cfg.create(Device.CPU, 0)) {
                    assertEquals(cfg.parameterCount(), model.parameterCount(), cfg.name() + " depth " + depth);
                }
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void keysAndShapesAreTheReleasedCheckpoints() {
        try (UViT l2 = UViT.IMAGENET256_L_2.withDepth(2).create(Device.CPU, 0);
             UViT h2 = UViT.IMAGENET256_H_2.withDepth(0).create(Device.CPU, 0);
             UViT coco = UViT.MSCOCO_S_2.withDepth(2).create(Device.CPU, 0)) {
            Map<String, Tensor> p = l2.stateDict();
            assertArrayEquals(new long[] {1, 258, 1024}, p.get("pos_embed").shape());
            assertArrayEquals(new long[] {1024, 4, 2, 2}, p.get("patch_embed.proj.weight").shape());
            assertArrayEquals(new long[] {1001, 1024}, p.get("label_emb.weight").shape());
            assertArrayEquals(new long[] {3072, 1024}, p.get("in_blocks.0.attn.qkv.weight").shape());
            assertFalse(p.containsKey("in_blocks.0.attn.qkv.bias"));
            assertArrayEquals(new long[] {4096, 1024}, p.get("mid_block.mlp.fc1.weight").shape());
            assertArrayEquals(new long[] {1024, 2048}, p.get("out_blocks.0.skip_linear.weight").shape());
            assertFalse(p.containsKey("in_blocks.0.skip_linear.weight"));
            assertArrayEquals(new long[] {16, 1024}, p.get("decoder_pred.weight").shape());
            assertArrayEquals(new long[] {4, 4, 3, 3}, p.get("final_layer.weight").shape());
            assertTrue(p.containsKey("norm.bias"));
            assertFalse(h2.stateDict().containsKey("final_layer.weight"), "the H models have no final conv");
            Map<String, Tensor> c = coco.stateDict();
            assertArrayEquals(new long[] {1, 334, 512}, c.get("pos_embed").shape());
            assertArrayEquals(new long[] {512, 768}, c.get("context_embed.weight").shape());
            assertFalse(c.containsKey("label_emb.weight"));
        }
    }

    @Test
    void initialisationFollowsTheReference() {
        try (UViT model = UViT.IMAGENET256_L_2.withDepth(2).withWidth(512, 8).create(Device.CPU, 3);
             TensorScope s = TensorScope.open()) {
            Map<String, Tensor> p = model.namedParameters();
            for (String k : new String[] {"pos_embed", "in_blocks.0.attn.qkv.weight", "out_blocks.0.skip_linear.weight",
                    "mid_block.mlp.fc2.weight", "decoder_pred.weight"}) {
                assertEquals(0.02, std(p.get(k)), 0.002, k);
                assertTrue(p.get(k).abs().max().item() < 0.1, k + " is truncated");
            }
            for (String k : new String[] {"in_blocks.0.attn.proj.bias", "out_blocks.0.skip_linear.bias", "decoder_pred.bias",
                    "norm.bias", "mid_block.norm1.bias"}) {
                assertEquals(0, p.get(k).abs().max().item(), k);
            }
            assertEquals(1, p.get("mid_block.norm2.weight").min().item());
            assertEquals(1, std(p.get("label_emb.weight")), 0.02, "the label table keeps PyTorch's N(0, 1)");
            double convBound = 1 / Math.sqrt(4 * 2 * 2);
            assertTrue(p.get("patch_embed.proj.weight").abs().max().item() <= convBound);
            assertTrue(p.get("patch_embed.proj.weight").abs().max().item() > 0.8 * convBound, "kaiming-uniform default");
            assertTrue(p.get("final_layer.bias").abs().max().item() > 0, "the final conv keeps its default bias");
        }
    }

    private static double std(Tensor t) {
        try (Tensor v = t.to(DType.FLOAT64).var(null, 1, false)) {
            return Math.sqrt(v.item());
        }
    }

    @Test
    void presetsAreFoundByEitherName() {
        assertSame(UViT.IMAGENET256_H_2, UViT.PRESETS.get("imagenet256_uvit_huge"));
        assertSame(UViT.MSCOCO_S_2_DEEP, UViT.PRESETS.get("mscoco_uvit_small_deep.pth"));
        assertSame(UViT.IMAGENET512_L_4, UViT.PRESETS.get("imagenet512-l/4"));
        assertSame(UViT.CIFAR10_S_2, UViT.PRESETS.get("CIFAR10_S_2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UViT.PRESETS.get("imagenet256_uvit_small"));
        assertTrue(e.getMessage().contains("imagenet256_uvit_large"), e.getMessage());
    }

    @Test
    void presetsHoldTheAuthorsConfigs() {
        assertEquals(1001, UViT.IMAGENET256_L_2.labelTableSize());
        assertEquals(1000, UViT.IMAGENET64_M_4.labelTableSize());
        assertEquals(21, UViT.IMAGENET256_L_2.blocks());
        assertEquals(29, UViT.IMAGENET512_H_4.blocks());
        assertFalse(UViT.IMAGENET512_H_4.conv());
        assertEquals(78, UViT.MSCOCO_S_2.extras());
        assertEquals(1, UViT.CELEBA64_S_4.extras());
        assertEquals(2, UViT.IMAGENET64_L_4.extras());
        assertEquals(3, UViT.CIFAR10_S_2.inChannels());
        for (UViT.Config c : UViT.PRESETS.all()) {
            assertEquals(4.0, c.mlpRatio());
            assertFalse(c.qkvBias());
        }
    }

    @Test
    void invalidConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> UViT.CIFAR10_S_2.withImgSize(33));
        assertThrows(IllegalArgumentException.class, () -> UViT.CIFAR10_S_2.withDepth(13));
        assertThrows(IllegalArgumentException.class, () -> UViT.CIFAR10_S_2.withWidth(500, 8));
        assertThrows(IllegalArgumentException.class, () -> new UViT.Config("both", 32, 2, 4, 512, 4, 8, 4, false, 10, true, 0, true, 768, 77));
        assertThrows(IllegalArgumentException.class, () -> new UViT.Config("half text", 32, 2, 4, 512, 4, 8, 4, false, -1, false, 0, true, 0, 77));
        assertThrows(IllegalArgumentException.class, () -> UViT.IMAGENET64_M_4.withLabelDropout(0.1));
    }
}
