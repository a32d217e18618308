package dev.dit4j.examples;

import static dev.dit4j.examples.SampleRefusals.assertRefused;
import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.UViT;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sample --prompt} on tiny text-to-image checkpoints that record their own configuration, and its refusals. */
class PromptSampleTest {
    private static final int WIDTH = 32;
    static final MicroDiT.Config MICRO = new MicroDiT.Config("micro-test", 8, 2, 3, 64, 1, 32, 32, WIDTH, 1.0, 0.5, 1.0, 0.5, 2.0,
            1, 64, 2.0, 2, 2.0, 2);
    static final UViT.Config UVIT = UViT.MSCOCO_S_2.withName("uvit-text-test").withImgSize(8).withPatch(2).withInChannels(3)
            .withWidth(64, 2).withDepth(2).withContext(WIDTH, 8);

    @TempDir
    Path dir;

    private Path checkpoint(ModelConfig<? extends DiffusionModel<?>> config, String name) {
        Path file = dir.resolve(name);
        try (TensorScope s = TensorScope.open(); DiffusionModel<?> net = config.create(Device.CPU, 1)) {
            Safetensors.save(file, net.stateDict(), Map.of("config", net.describe(), "edm_sigma_data", "0.5"));
        }
        return file;
    }

    private Path textEncoder(int width) {
        Path file = dir.resolve("text-" + width + ".safetensors");
        ClipTextConfig cfg = ClipTextConfig.OPENCLIP_VIT_H_14.withContextLength(8).withWidth(width).withLayers(1).withHeads(1)
                .withMlpWidth(2 * width).withProjectionDim(0);
        try (TensorScope s = TensorScope.open(); ClipTextEncoder e = cfg.create(Device.CPU, 3)) {
            Safetensors.save(file, e.stateDict(), Map.of("heads", "1"));
        }
        return file;
    }

    @Test
    void microDiTAndUViTSampleAPromptGrid() throws Exception {
        long live = Torch.liveTensors();
        Path text = textEncoder(WIDTH);
        for (var c : List.of(List.of("MicroDiT_XL_2", "micro.safetensors"), List.of("mscoco_uvit_small", "uvit.safetensors"))) {
            Path ckpt = checkpoint(c.get(0).startsWith("Micro") ? MICRO : UVIT, c.get(1)), out = dir.resolve("out-" + c.get(0));
            assertEquals(0, new CommandLine(new Sample()).execute("--model", c.get(0), "--weights", ckpt.toString(), "--text-encoder", text.toString(),
                    "--prompt", "a red sneaker left of a blue bag", "--prompt", "a green boot", "--steps", "2", "--out", out.toString()));
            BufferedImage grid = ImageIO.read(out.resolve("prompts.png").toFile());
            assertTrue(grid.getWidth() > 2 * 128 && grid.getHeight() > 128, c.get(0) + ": a grid of two captioned cells");
        }
        assertEquals(live, Torch.liveTensors());
    }

    /** Prompts get what labels get: batches drawn from their own seeds, resumable runs, latents-only runs and --latents-out, --npz. */
    @Test
    void promptRunsAreBatchedResumableAndWriteLatents() throws Exception {
        long live = Torch.liveTensors();
        Path text = textEncoder(WIDTH), pixels = checkpoint(MICRO, "micro.safetensors"), latent = checkpoint(MICRO.withInChannels(4), "latent.safetensors");
        String[] prompts = {"--prompt", "a red sneaker", "--prompt", "a green boot", "--count", "3", "--batch", "2", "--steps", "2"};
        Path once = dir.resolve("once"), twice = dir.resolve("twice");
        assertEquals(0, sample(pixels, text, once, prompts));
        assertEquals(0, sample(pixels, text, twice, prompts));
        Files.delete(twice.resolve("images/000002.png")); // as if stopped before batch 1 was complete
        assertEquals(0, sample(pixels, text, twice, concat(prompts, "--npz", dir.resolve("p.npz").toString())));
        for (int i = 0; i < 3; i++) {
            String png = String.format("images/%06d.png", i);
            assertArrayEquals(Files.readAllBytes(once.resolve(png)), Files.readAllBytes(twice.resolve(png)), png + " is the one-run picture");
        }
        assertTrue(Files.exists(twice.resolve("prompts.png")) && Files.exists(dir.resolve("p.npz")));
        Path latents = dir.resolve("latents.safetensors"), onlyLatents = dir.resolve("latent-run");
        assertEquals(0, sample(latent, text, onlyLatents, concat(prompts, "--latents-out", latents.toString())));
        try (Safetensors.Contents c = Safetensors.read(latents)) {
            assertArrayEquals(new long[] {3, 4, 8, 8}, c.tensors().get("latents").shape(), "a latent model without --vae writes its latents");
        }
        assertFalse(Files.exists(onlyLatents.resolve("images")));
        assertEquals(live, Torch.liveTensors());
    }

    private static int sample(Path weights, Path text, Path out, String... extra) {
        return new CommandLine(new Sample()).execute(concat(new String[] {"--model", "MicroDiT_XL_2", "--weights", weights.toString(),
                "--text-encoder", text.toString(), "--out", out.toString()}, extra));
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void badInputIsRefusedByName() throws Exception {
        Path micro = checkpoint(MICRO, "micro.safetensors"), text = textEncoder(WIDTH);
        Path dit = dir.resolve("dit.safetensors");
        try (TensorScope s = TensorScope.open(); DiffusionModel<?> net = dev.dit4j.models.DiffusionConfig.preset("cifar10_uvit_small").overridden(2, null).resized(3, 8).create(Device.CPU, 0)) {
            Safetensors.save(dit, net.stateDict());
        }
        assertRefused(dir, "has no text conditioning", "--model", "DiT-S/2", "--weights", dit.toString(), "--prompt", "a cat");
        assertRefused(dir, "has no text conditioning", "--model", "cifar10_uvit_small", "--weights", dit.toString(), "--prompt", "a cat",
                "--text-encoder", text.toString());
        assertRefused(dir, "use a text encoder of width 32", "--model", "MicroDiT_XL_2", "--weights", micro.toString(), "--prompt", "a cat",
                "--text-encoder", textEncoder(16).toString());
        assertRefused(dir, "needs --text-encoder", "--model", "MicroDiT_XL_2", "--weights", micro.toString(), "--prompt", "a cat");
        Path badUtf8 = dir.resolve("prompts.txt");
        Files.write(badUtf8, new byte[] {'a', '\n', (byte) 0xC3, '(', '\n'});
        assertRefused(dir, "line 2: not valid UTF-8", "--model", "MicroDiT_XL_2", "--weights", micro.toString(), "--prompts", badUtf8.toString(),
                "--text-encoder", text.toString());
    }
}
