package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AutoencoderKL against the authors' LDM autoencoder (U-ViT's libs/autoencoder.py) on identical
 * random weights, loaded from files in each layout users have: the LDM state dict as a .pth, the
 * same weights renamed to diffusers' layout (by the fixture script's own renaming) as
 * safetensors, and a Stable Diffusion checkpoint's first_stage_model section. The architecture is
 * inferred from the shapes each time (and GroupNorm's groups, which no shape shows, from the
 * diffusers config.json beside the files). f8 models of width 32 at 64 px (batch 2), at 256 px
 * (2 residual blocks, attention at the deepest level), and at 64 px with 8 groups (the LDM code's
 * Normalize given num_groups 8, as diffusers' norm_num_groups).
 */
class AutoencoderKLParityTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"vae_f8_64", "vae_f8_256", "vae_f8_64_g8"})
    void matchesTheAuthorsAutoencoderFromEitherLayout(String fixture) throws IOException {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load(fixture + ".safetensors"); TensorScope scope = TensorScope.open()) {
            Map<String, String> meta = ref.metadata();
            AutoencoderKL.Config expected = configOf(meta);
            List<Path> files = writeWeights(expected, meta, ref.tensors());
            int size = Integer.parseInt(meta.get("size")), n = Integer.parseInt(meta.get("batch"));
            Tensor x = draw(new long[] {n, 3, size, size}, meta.get("input_seed"));
            Tensor z = draw(new long[] {n, 4, size / 8, size / 8}, meta.get("latent_seed"));
            double scale = Double.parseDouble(meta.get("scale"));
            Tensor firstDecoded = null;
            StringBuilder report = new StringBuilder(fixture + ":");
            for (Path file : files) {
                try (AutoencoderKL vae = AutoencoderKL.load(file, Device.CPU)) {
                    assertTrue(vae.config().sameArchitecture(expected), "inferred " + vae.config() + " from " + file);
                    double moments = Fixtures.relativeL2(vae.encodeMoments(x), ref.tensors().get("moments"));
                    Tensor decoded = vae.decode(z.div(scale));
                    double pixels = ref.tensors().containsKey("decoded")
                            ? Fixtures.relativeL2(decoded, ref.tensors().get("decoded"))
                            : Math.max(Fixtures.relativeL2(Functional.avgPool2d(decoded, 8, 8), ref.tensors().get("decoded_pool8")),
                                       Fixtures.relativeL2(decoded.narrow(2, size / 2 - 16, 32).narrow(3, size / 2 - 16, 32),
                                               ref.tensors().get("decoded_crop")));
                    assertTrue(moments < TOLERANCE, file.getFileName() + ": moments rel L2 " + moments);
                    assertTrue(pixels < TOLERANCE, file.getFileName() + ": decoded rel L2 " + pixels);
                    if (firstDecoded == null) firstDecoded = decoded;
                    else assertTrue(decoded.allclose(firstDecoded, 0, 0), "every layout loads to the same outputs");
                    report.append(String.format(" %s moments %.1e decoded %.1e;", file.getFileName(), moments, pixels));
                }
            }
            System.out.println(report);
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    static AutoencoderKL.Config configOf(Map<String, String> meta) {
        List<Integer> mult = Arrays.stream(meta.get("ch_mult").split(",")).map(Integer::parseInt).toList();
        int size = Integer.parseInt(meta.get("size"));
        List<Integer> attention = new ArrayList<>();
        for (String r : meta.get("attn_resolutions").split(",")) {
            if (!r.isEmpty()) attention.add(Integer.numberOfTrailingZeros(size / Integer.parseInt(r)));
        }
        return AutoencoderKL.SD.withChannels(Integer.parseInt(meta.get("ch"))).withChannelMult(mult)
                .withNumResBlocks(Integer.parseInt(meta.get("num_res_blocks"))).withAttentionLevels(attention)
                .withNormGroups(Integer.parseInt(meta.get("norm_groups")));
    }

    /** The fixture's seeded weights as U-ViT's .pth, as diffusers' safetensors and as an SD checkpoint's section. */
    private List<Path> writeWeights(AutoencoderKL.Config cfg, Map<String, String> meta, Map<String, Tensor> ref) throws IOException {
        Map<String, Tensor> ldm = new LinkedHashMap<>();
        try (AutoencoderKL model = cfg.create(Device.CPU, 0)) {
            Fixtures.loadSeeded(model, meta, ref.get("weight_sums"));
            model.stateDict().forEach((k, v) -> ldm.put(k, v.clone()));
        }
        if (cfg.normGroups() != 32) Files.writeString(dir.resolve("config.json"), "{\"norm_num_groups\": " + cfg.normGroups() + "}");
        Path pth = dir.resolve("autoencoder_kl.pth");
        TorchCheckpoint.write(pth, ldm);

        List<String> keys = List.of(meta.get("keys").split(","));
        List<String> renamed = List.of(meta.get("diffusers_keys").split(","));
        byte[] linear = new byte[renamed.size()];
        ref.get("diffusers_linear").asSegment().asByteBuffer().get(linear);
        Map<String, Tensor> diffusers = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            Tensor w = ldm.get(keys.get(i));
            diffusers.put(renamed.get(i), linear[i] == 1 ? w.reshape(w.size(0), w.size(1)) : w);
        }
        Path safetensors = dir.resolve("diffusion_pytorch_model.safetensors");
        Safetensors.save(safetensors, diffusers);

        Map<String, Tensor> checkpoint = new LinkedHashMap<>();
        checkpoint.put("model.diffusion_model.input_blocks.0.0.weight", Tensor.zeros(2, 2));
        ldm.forEach((k, v) -> checkpoint.put("first_stage_model." + k, v));
        Path sd = dir.resolve("sd-checkpoint.safetensors");
        Safetensors.save(sd, checkpoint);
        return List.of(pth, safetensors, sd);
    }

    private static Tensor draw(long[] shape, String seed) {
        try (Generator g = Generator.cpu(Long.parseLong(seed))) {
            return Tensor.randn(shape, DType.FLOAT32, Device.CPU, g);
        }
    }
}
