package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.flow.Transport;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** clipart512-demo end to end at toy sizes: every phase's outputs, no leaked tensors, bad input named. */
class Clipart512DemoTest {
    @TempDir
    Path dir;

    /** Eleven transparent drawings big enough for 32 px, one too small, one truncated. */
    private Path clipArt() throws Exception {
        Path root = dir.resolve("clipart");
        for (int i = 0; i < 11; i++) {
            int w = 40 + 5 * i, h = 70 - 3 * i;
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
            int colour = 0xFF000000 | (i * 23 & 0xff) << 16 | (200 - i * 15) << 8 | 90;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double dx = (x + 0.5) / w - 0.5, dy = (y + 0.5) / h - 0.5;
                    if (dx * dx + dy * dy < 0.15 + 0.01 * i) img.setRGB(x, y, colour);
                }
            }
            Path f = root.resolve(i % 2 == 0 ? "animals" : "plants").resolve("d" + i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        ImageIO.write(new BufferedImage(16, 16, BufferedImage.TYPE_INT_ARGB), "png", root.resolve("tiny.png").toFile());
        byte[] bytes = Files.readAllBytes(root.resolve("animals/d0.png"));
        Files.write(root.resolve("cut.png"), Arrays.copyOf(bytes, bytes.length / 2));
        return root;
    }

    /** The demo at toy sizes (a 32 px f16 latent is 2x2, so one token is patch 2); {@code extra} option-value pairs replace or add. */
    private static List<String> tiny(Path images, Path out, String... extra) {
        Map<String, String> options = new LinkedHashMap<>();
        String[] defaults = {"--images", images.toString(), "--count", "8", "--size", "32", "--held-out", "2", "--vae-crop", "16", "--vae-batch", "2",
                "--vae-steps", "2", "--steps", "2", "--batch", "2", "--depth", "1", "--patch", "2", "--samples", "2", "--sample-steps", "2",
                "--out", out.toString()};
        for (String[] pairs : new String[][] {defaults, extra}) {
            for (int i = 0; i < pairs.length; i += 2) options.put(pairs[i], pairs[i + 1]);
        }
        List<String> args = new ArrayList<>();
        options.forEach((name, value) -> args.addAll(List.of(name, value)));
        return args;
    }

    /** Runs the demo in this thread, so that its exceptions reach the test. */
    private static int demo(List<String> args) throws Exception {
        Clipart512Demo demo = new Clipart512Demo();
        new CommandLine(demo).parseArgs(args.toArray(String[]::new));
        return demo.call();
    }

    @Test
    void runsEveryPhaseAtToySizes() throws Exception {
        long live = Torch.liveTensors();
        Path images = clipArt(), out = dir.resolve("run");
        assertEquals(0, demo(tiny(images, out)));
        try (var pngs = Files.list(out.resolve("images/clipart"))) {
            assertEquals(8, pngs.filter(p -> p.toString().endsWith(".png")).count());
        }
        BufferedImage first = ImageIO.read(out.resolve("images/clipart/00000.png").toFile());
        assertEquals(32, first.getWidth());
        assertEquals(32, first.getHeight());
        String sources = Files.readString(out.resolve("images/sources.txt"));
        assertFalse(sources.contains("cut.png") || sources.contains("tiny.png"), sources);
        for (String f : List.of("vae/vae.safetensors", "vae/config.json", "vae/reconstructions.png", "model/checkpoint.safetensors",
                "samples/grid.png", "summary.txt")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.readString(out.resolve("vae/config.json")).contains("scaling_factor"));
        assertEquals(8, AutoencoderKL.Config.inferFrom(out.resolve("vae/vae.safetensors")).normGroups(),
                "the groups train-vae chose (stem 32 / 4) come back from config.json");
        try (LatentFiles latents = LatentFiles.open(out.resolve("latents"), List.of())) {
            assertEquals(8, latents.size());
            assertArrayEquals(new long[] {8, 2, 2}, latents.imageShape(), "f16, 8 channels");
        }
        try (Safetensors.Contents checkpoint = Safetensors.read(out.resolve("model/checkpoint.safetensors"))) {
            assertEquals("data", checkpoint.metadata().get(Transport.PREDICTION_KEY), "flow, predicting the clean latents, by default");
        }
        assertEquals(32, ImageIO.read(out.resolve("samples/images/000000.png").toFile()).getWidth());
        assertTrue(Files.readString(out.resolve("summary.txt")).contains("held-out reconstruction PSNR"));
        assertEquals(live, Torch.liveTensors());

        // a second run reuses the prepared images and replaces the rest
        assertEquals(0, demo(tiny(images, out)));
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void aPretrainedAutoencoderSkipsTraining() throws Exception {
        long live = Torch.liveTensors();
        Path images = clipArt(), out = dir.resolve("pretrained"), vae = SampleTest.tinyVae(dir, 4); // LDM layout, random weights
        assertEquals(0, demo(tiny(images, out, "--vae", vae.toString(), "--objective", "default")));
        assertFalse(Files.exists(out.resolve("vae")), "no autoencoder trained");
        try (Safetensors.Contents checkpoint = Safetensors.read(out.resolve("model/checkpoint.safetensors"))) {
            assertNull(checkpoint.metadata().get(Transport.PATH_KEY), "--objective default: DiT's own objective");
        }
        assertTrue(Files.isRegularFile(out.resolve("samples/grid.png")));
        assertTrue(Files.readString(out.resolve("summary.txt")).contains("not trained here"));
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void flowTrainsWithTheTransportAndSamplesWithItsOde() throws Exception {
        long live = Torch.liveTensors();
        Path images = clipArt(), out = dir.resolve("flow"), vae = SampleTest.tinyVae(dir, 4);
        assertEquals(0, demo(tiny(images, out, "--vae", vae.toString(), "--objective", "flow", "--time-sampling", "logit-normal")));
        try (Safetensors.Contents checkpoint = Safetensors.read(out.resolve("model/checkpoint.safetensors"))) {
            assertEquals("linear", checkpoint.metadata().get(Transport.PATH_KEY), "the checkpoint records its transport");
            assertEquals("logit-normal", checkpoint.metadata().get(Transport.TIME_KEY));
        }
        assertTrue(Files.isRegularFile(out.resolve("samples/grid.png")));
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void anotherAutoencoderAndPatch() throws Exception {
        long live = Torch.liveTensors();
        Path images = clipArt(), out = dir.resolve("f8");
        assertEquals(0, demo(tiny(images, out, "--vae-ch-mult", "1,1,2,2", "--vae-z-channels", "4", "--model", "DiT-S/4", "--patch", "2")));
        try (LatentFiles latents = LatentFiles.open(out.resolve("latents"), List.of())) {
            assertArrayEquals(new long[] {4, 4, 4}, latents.imageShape(), "f8, 4 channels");
        }
        try (Safetensors.Contents checkpoint = Safetensors.read(out.resolve("model/checkpoint.safetensors"))) {
            assertTrue(checkpoint.metadata().get("config").contains("patch=2"), checkpoint.metadata().get("config"));
        }
        assertTrue(Files.isRegularFile(out.resolve("samples/grid.png")), "sampled at the recorded patch");
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void badInputIsNamed() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> demo(tiny(dir.resolve("absent"), dir.resolve("o1"))));
        assertTrue(e.getMessage().contains("absent") && e.getMessage().contains("not a folder"), e.getMessage());
        Path few = dir.resolve("few");
        Files.createDirectories(few);
        ImageIO.write(new BufferedImage(16, 16, BufferedImage.TYPE_INT_ARGB), "png", few.resolve("tiny.png").toFile());
        e = assertThrows(IllegalArgumentException.class, () -> demo(tiny(few, dir.resolve("o2"))));
        assertTrue(e.getMessage().contains("only 0 usable drawings"), e.getMessage());
        assertEquals(2, new CommandLine(new Clipart512Demo()).execute("--size", "0"), "a usage error");
        Path images = clipArt();
        e = assertThrows(IllegalArgumentException.class, () -> demo(tiny(images, dir.resolve("o3"), "--model", "U-DiT-S", "--patch", "2")));
        assertTrue(e.getMessage().contains("--patch applies to DiT presets, not to U-DiT-S"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("o3/images")), "refused before any work");
        Path vae = SampleTest.tinyVae(dir, 4);
        e = assertThrows(IllegalArgumentException.class, () -> demo(tiny(images, dir.resolve("o4"), "--vae", vae.toString(), "--patch", "3")));
        assertTrue(e.getMessage().contains("--patch 3 does not divide the latent side 4"), e.getMessage());
    }
}
