package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.data.ImageFolder;
import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.models.vae.DiagonalGaussian;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** extract-latents: an ImageFolder into shards that train-latents reads; flips, resuming, damaged images. */
class ExtractLatentsTest {
    @TempDir
    Path dir;

    /** Two classes of small images of different sizes and colours (5 in all). */
    private Path imageFolder() throws Exception {
        Path root = dir.resolve("images");
        int[][] sizes = {{80, 70}, {64, 96}, {70, 70}, {100, 64}, {72, 90}};
        for (int i = 0; i < sizes.length; i++) {
            BufferedImage img = new BufferedImage(sizes[i][0], sizes[i][1], BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++)
                for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, ((x * 3 + i * 40) & 0xff) << 16 | ((y * 2) & 0xff) << 8 | (i * 50));
            Path f = root.resolve(i < 3 ? "cat" : "dog").resolve("img" + i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        return root;
    }

    private int extract(Path images, Path vae, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("--images", images.toString(), "--vae", vae.toString(), "--image-size", "64",
                "--shard-size", "2", "--batch", "2", "--workers", "2", "--out", out.toString()));
        args.addAll(List.of(extra));
        return new CommandLine(new ExtractLatents()).execute(args.toArray(String[]::new));
    }

    @Test
    void shardsHoldScaledMeanLatentsThatTrainLatentsReads() throws Exception {
        long live = Torch.liveTensors();
        Path images = imageFolder(), vae = SampleTest.tinyVae(dir, 4), out = dir.resolve("shards");
        assertEquals(0, extract(images, vae, out, "--flip", "none"));
        try (LatentFiles latents = LatentFiles.open(out, List.of())) {
            assertEquals(5, latents.size());
            assertArrayEquals(new long[] {4, 8, 8}, latents.imageShape());
            assertEquals(0, latents.label(2));
            assertEquals(1, latents.label(3), "classes in sorted folder order");
            // Image 3, centre-cropped as ImageFolder does, encoded here: its mean times SD's scale.
            ImageFolder folder = ImageFolder.open(images, 64);
            float[] chw = new float[3 * 64 * 64];
            folder.readImage(3, chw);
            float[] stored = new float[4 * 8 * 8];
            latents.readImage(3, stored);
            try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad(); AutoencoderKL ae = AutoencoderKL.load(vae, Device.CPU)) {
                ae.eval();
                try (DiagonalGaussian posterior = ae.encode(Tensor.of(chw, 1, 3, 64, 64))) {
                    float[] expected = posterior.mean().mul(0.18215).toFloatArray();
                    assertArrayEquals(expected, stored, 1e-5f);
                }
            }
        }
        assertEquals("cat\ndog\n", Files.readString(out.resolve("classes.txt")));
        Path sampled = dir.resolve("sampled"), again = dir.resolve("again");
        assertEquals(0, extract(images, vae, sampled, "--flip", "none", "--vae-sample", "--seed", "7"));
        assertEquals(0, extract(images, vae, again, "--flip", "none", "--vae-sample", "--seed", "7"));
        try (LatentFiles mean = LatentFiles.open(out, List.of()); LatentFiles a = LatentFiles.open(sampled, List.of());
             LatentFiles b = LatentFiles.open(again, List.of())) {
            float[] m = new float[256], x = new float[256], y = new float[256];
            mean.readImage(4, m);
            a.readImage(4, x);
            b.readImage(4, y);
            assertArrayEquals(x, y, "sampled latents are seeded");
            assertTrue(maxDiff(m, x) > 1e-4, "a sample is not the mean");
        }
        String[] train = {"--model", "DiT-S/2", "--depth", "1", "--latents", out.toString(), "--classes", "2", "--batch", "2", "--steps", "1",
                "--out", dir.resolve("run").toString()};
        assertEquals(0, new CommandLine(new TrainLatents()).execute(train), "train-latents reads the shards");
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void flipsAsTheAuthorsStoreThemAndResumes() throws Exception {
        Path images = imageFolder(), vae = SampleTest.tinyVae(dir, 4);
        Path both = dir.resolve("both"), random = dir.resolve("random"), none = dir.resolve("none");
        assertEquals(0, extract(images, vae, both, "--flip", "both"));
        assertEquals(0, extract(images, vae, none, "--flip", "none"));
        assertEquals(0, extract(images, vae, random, "--flip", "random"));
        try (LatentFiles b = LatentFiles.open(both, List.of()); LatentFiles n = LatentFiles.open(none, List.of());
             LatentFiles r = LatentFiles.open(random, List.of())) {
            assertEquals(10, b.size(), "U-ViT's: each image and its mirror");
            assertEquals(5, r.size(), "fast-DiT's: one latent per image");
            float[] x = new float[256], y = new float[256];
            int flipped = 0;
            for (int i = 0; i < 5; i++) {
                n.readImage(i, x);
                b.readImage(2 * i, y);
                assertArrayEquals(x, y, 1e-5f, "both: image " + i + " first");
                assertEquals(n.label(i), b.label(2 * i + 1), "its mirror keeps the label");
                r.readImage(i, y);
                float[] mirror = new float[256];
                b.readImage(2 * i + 1, mirror);
                boolean same = maxDiff(x, y) < 1e-5, isMirror = maxDiff(mirror, y) < 1e-5;
                assertTrue(same || isMirror, "random: image " + i + " or its mirror");
                if (isMirror && !same) flipped++;
            }
            assertTrue(flipped > 0 && flipped < 5, "some flipped, some not: " + flipped);
        }
        byte[] shard1 = Files.readAllBytes(random.resolve("00000002.safetensors"));
        Files.delete(random.resolve("00000002.safetensors"));
        long kept = Files.getLastModifiedTime(random.resolve("00000000.safetensors")).toMillis();
        assertEquals(0, extract(images, vae, random, "--flip", "random"));
        assertArrayEquals(shard1, Files.readAllBytes(random.resolve("00000002.safetensors")), "the missing shard is made again, the same");
        assertEquals(kept, Files.getLastModifiedTime(random.resolve("00000000.safetensors")).toMillis(), "complete shards are skipped");
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ExtractLatents());
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("--images", images.toString(), "--vae", vae.toString(), "--image-size", "64", "--shard-size", "2",
                "--flip", "both", "--out", random.toString()));
        assertTrue(err.toString().contains("flip random there, both now"), err.toString());
    }

    /**
     * 512 px end to end: 64x64 latents (1024 DiT tokens of patch 2, as DiT-XL/2 at 512) through
     * extract-latents, train-latents and sample, with a depth-1 DiT-S/2 and the small autoencoder
     * (U-ViT's 512 presets take the same latents; a width-1024 U-ViT-L step is too slow for a test here).
     */
    @Test
    void fiveTwelveEndToEnd() throws Exception {
        long live = Torch.liveTensors();
        Path root = dir.resolve("big");
        for (int i = 0; i < 2; i++) {
            BufferedImage img = new BufferedImage(600 - 40 * i, 520 + 30 * i, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (x / 3) << 16 | (y / 3) << 8 | 90 * i);
            Path f = root.resolve("class" + i).resolve("a.png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        Path vae = SampleTest.tinyVae(dir, 4), shards = dir.resolve("shards512");
        assertEquals(0, new CommandLine(new ExtractLatents()).execute("--images", root.toString(), "--vae", vae.toString(),
                "--image-size", "512", "--flip", "none", "--out", shards.toString()));
        try (LatentFiles latents = LatentFiles.open(shards, List.of())) {
            assertArrayEquals(new long[] {4, 64, 64}, latents.imageShape());
        }
        for (String[] model : new String[][] {{"DiT-S/2", "1"}}) {
            Path run = dir.resolve("run-" + model[1]);
            assertEquals(0, new CommandLine(new TrainLatents()).execute("--model", model[0], "--depth", model[1], "--latents", shards.toString(),
                    "--classes", "2", "--batch", "2", "--steps", "1", "--out", run.toString()), model[0]);
            Path out = dir.resolve("samples-" + model[1]);
            assertEquals(0, new CommandLine(new Sample()).execute("--model", model[0], "--depth", model[1], "--classes", "2",
                    "--weights", run.resolve("checkpoint.safetensors").toString(), "--vae", vae.toString(), "--steps", "2", "--count", "1", "--cfg", "1",
                    "--out", out.toString()), model[0]);
            assertEquals(512, ImageIO.read(out.resolve("images/000000.png").toFile()).getWidth(), model[0] + " samples 512 px images");
        }
        assertEquals(live, Torch.liveTensors());
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void aDamagedImageStopsTheRunByNameAndLeavesOnlyCompleteShards() throws Exception {
        Path images = imageFolder(), vae = SampleTest.tinyVae(dir, 4), out = dir.resolve("shards");
        byte[] png = Files.readAllBytes(images.resolve("dog/img4.png"));
        Files.write(images.resolve("dog/img4.png"), java.util.Arrays.copyOf(png, png.length / 2));
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ExtractLatents());
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("--images", images.toString(), "--vae", vae.toString(), "--image-size", "64", "--shard-size", "2",
                "--flip", "none", "--out", out.toString()));
        assertTrue(err.toString().contains("img4.png"), err.toString());
        try (var files = Files.list(out)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("00000000.safetensors", "00000002.safetensors", "classes.txt", "settings.txt"), names,
                    "the shards before the damaged image, complete; no temporary file, no partial shard");
        }
        assertRefusedSize(images, vae);
    }

    private void assertRefusedSize(Path images, Path vae) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new ExtractLatents());
        cl.setErr(new PrintWriter(err));
        assertNotEquals(0, cl.execute("--images", images.toString(), "--vae", vae.toString(), "--image-size", "60", "--out", dir.resolve("x").toString()));
        assertTrue(err.toString().contains("not divisible by 8"), err.toString());
    }
}
