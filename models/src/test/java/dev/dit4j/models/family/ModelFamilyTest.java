package dev.dit4j.models.family;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.models.sampling.SampleChain;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each family tells the configuration a file was trained with, from its shapes (released files) or its record (dit4j's), and gives its recipe. */
class ModelFamilyTest {
    static final MicroDiT.Config MICRO = new MicroDiT.Config("micro-test", 8, 2, 3, 64, 1, 32, 32, 32, 1.0, 0.5, 1.0, 0.5, 2.0, 1, 64, 2.0, 2, 2.0, 2);

    @TempDir
    Path dir;

    /** {@code config}'s random weights as a plain torch.save'd state dict, as the authors release them. */
    private Path released(DiffusionConfig<? extends DiffusionModel<?>> config, String name) {
        Path file = dir.resolve(name + ".pt");
        try (TensorScope s = TensorScope.open(); DiffusionModel<?> m = config.create(Device.CPU, 1)) {
            TorchCheckpoint.write(file, m.stateDict());
        }
        return file;
    }

    @Test
    void releasedFilesAreReadFromTheirShapes() {
        long live = Torch.liveTensors();
        DiT.Config dit = DiT.S_2.withDepth(1).withInputSize(8).withNumClasses(10);
        UViT.Config uvit = UViT.CIFAR10_S_2.withDepth(2).withImgSize(8).withClasses(10, true);
        UViT.Config uncond = UViT.CIFAR10_S_2.withDepth(2).withImgSize(8);
        UDiT.Config udit = UDiT.S.withDepths(1, 1, 1, 1, 1).withNumClasses(10);
        for (DiffusionConfig<? extends DiffusionModel<?>> c : java.util.List.of(dit, uvit, uncond, udit)) {
            CheckpointInfo info = ModelFamily.probe(released(c, c.name()));
            assertEquals(c, info.config(), c.name());
            assertEquals(c.name(), info.preset());
            assertFalse(info.recorded());
            assertSame(ModelFamily.of(c), info.family());
        }
        // no MicroDiT preset has this width: the probe reads it over the preset given, the table's side over the preset's
        MicroDiT.Config micro = MICRO.withInputSize(16).withPosInterpScale(2.0);
        try (var w = dev.dit4j.models.Weights.open(released(micro, "micro"))) {
            assertEquals(ModelFamily.MICRODIT, ModelFamily.holding(w).orElseThrow(), "MicroDiT is told from DiT by its mask token");
            assertEquals(micro, ModelFamily.MICRODIT.probe(w, MICRO).config());
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void aDit4jCheckpointIsRebuiltFromItsRecord() {
        DiT.Config small = new DiT.Config("DiT-fashion", 2, 128, 2, 4, 4.0, 1, 32, 10, true, 0.1);
        Path file = dir.resolve("ckpt.safetensors");
        try (DiT m = small.create(Device.CPU, 0)) {
            m.save(file, ModelFamily.DIT.recipe(small).metadata());
        }
        CheckpointInfo info = ModelFamily.probe(file);
        assertTrue(info.recorded());
        assertEquals(small, info.config());
        assertNull(info.preset(), "no DiT preset is 128 wide");
        UDiT.Config udit = UDiT.S.withDepths(1, 0, 2, 0, 1).withInputSize(16);
        assertEquals(udit, ConfigText.parse(UDiT.Config.class, udit.toString(), "test"), "lists of stage depths parse too");
    }

    @Test
    void anotherNetworkIsRefusedByName() {
        Path file = dir.resolve("vae.safetensors");
        try (Tensor t = Tensor.zeros(2)) {
            Safetensors.save(file, Map.of("encoder.conv_in.weight", t));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFamily.probe(file));
        assertTrue(e.getMessage().contains("holds no DiT, U-ViT, U-DiT or MicroDiT network"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelFamily.ofPreset("no-such-model"));
        assertSame(ModelFamily.UVIT, ModelFamily.ofPreset("imagenet256_uvit_huge"));
        assertSame(ModelFamily.DIT, ModelFamily.ofPreset("dit-xl-2"));
    }

    @Test
    void recipesAreTheAuthors() {
        Recipe dit = ModelFamily.DIT.recipe(DiT.XL_2);
        assertEquals(SamplerKind.DDPM, dit.sampler());
        assertEquals(250, dit.steps());
        assertEquals(4.0, dit.guidance());
        assertEquals(Recipe.NullCondition.NULL_LABEL, dit.nullCondition());
        assertEquals(1e-4, dit.options().lr());
        // U-ViT: the released L latent models run in continuous time, the H ones and dit4j's latent models in discrete time
        CheckpointInfo large = new CheckpointInfo(ModelFamily.UVIT, UViT.IMAGENET256_L_2, UViT.IMAGENET256_L_2.name(), false, Map.of());
        CheckpointInfo huge = new CheckpointInfo(ModelFamily.UVIT, UViT.IMAGENET256_H_2, UViT.IMAGENET256_H_2.name(), false, Map.of());
        assertEquals(SampleChain.Draw.NOISE_FIRST, large.recipe().draw());
        assertEquals(SampleChain.Draw.LABELS_FIRST, huge.recipe().draw());
        assertEquals("discrete", ModelFamily.UVIT.recipe(UViT.IMAGENET256_L_2).metadata().get("uvit_time"));
        assertEquals("continuous", large.withMetadata("config", "x").withMetadata("uvit_time", "continuous").recipe().metadata().get("uvit_time"));
        assertThrows(IllegalArgumentException.class, () -> large.withMetadata("uvit_time", "sideways").recipe());
        assertEquals(1.4, large.recipe().guidance(), "their configs' 0.4");
        assertEquals(1.4, ModelFamily.UVIT.scaleFromAuthors(0.4), 1e-12);
        assertEquals(Recipe.NullCondition.EMPTY_CAPTION, ModelFamily.UVIT.recipe(UViT.MSCOCO_S_2).nullCondition());
        IllegalArgumentException ddpm = assertThrows(IllegalArgumentException.class, () -> large.recipe().newSampler(SamplerKind.DDPM, 10));
        assertTrue(ddpm.getMessage().contains("predicts noise only"), ddpm.getMessage());
        // MicroDiT: EDM Heun, its sigma_data as recorded
        Recipe micro = new CheckpointInfo(ModelFamily.MICRODIT, MICRO, null, true, Map.of("edm_sigma_data", "0.5")).recipe();
        assertEquals(SamplerKind.EDM_HEUN, micro.sampler());
        assertEquals("0.5", micro.metadata().get("edm_sigma_data"));
        assertEquals(Recipe.NullCondition.ZEROS, micro.nullCondition());
        try (var sampler = micro.newSampler()) {
            assertEquals(micro.steps(), micro.defaultSteps(SamplerKind.EDM_HEUN));
        }
    }
}
