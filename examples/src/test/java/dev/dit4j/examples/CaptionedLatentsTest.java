package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.embed.Embeddings;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Text-to-image from precomputed latents, end to end on tiny random networks: extract-latents
 * --captions (a tiny VAE, a tiny CLIP text tower), train-latents for MicroDiT in its stages and
 * for U-ViT's text variant, then sample --prompt from the checkpoints.
 */
class CaptionedLatentsTest {
    private static final int WIDTH = 32, CONTEXT = 8;

    @TempDir
    Path dir;

    /** Five 64-px images with same-stem captions; image 1 has three (one a line). */
    private Path captionedImages() throws Exception {
        Path root = dir.resolve("images");
        Files.createDirectories(root);
        for (int i = 0; i < 5; i++) {
            BufferedImage img = new BufferedImage(64 + 8 * i, 64, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++)
                for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, ((x * 3 + i * 40) & 0xff) << 16 | ((y * 2) & 0xff) << 8 | (i * 50));
            ImageIO.write(img, "png", root.resolve("img" + i + ".png").toFile());
            String caption = i == 1 ? "a red square\na crimson block\nsomething red\n" : "picture number " + i + "\n";
            Files.writeString(root.resolve("img" + i + ".txt"), caption, StandardCharsets.UTF_8);
        }
        return root;
    }

    private static ClipTextConfig textConfig(int width) {
        return ClipTextConfig.OPENCLIP_VIT_H_14.withContextLength(CONTEXT).withWidth(width).withLayers(1).withHeads(1)
                .withMlpWidth(2 * width).withProjectionDim(0);
    }

    private Path textEncoder(int width) {
        Path file = dir.resolve("text-" + width + ".safetensors");
        try (TensorScope s = TensorScope.open(); ClipTextEncoder e = textConfig(width).create(Device.CPU, 3)) {
            Safetensors.save(file, e.stateDict(), Map.of("heads", "1"));
        }
        return file;
    }

    private int extract(Path images, Path vae, Path text, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("--images", images.toString(), "--vae", vae.toString(), "--image-size", "64", "--captions",
                "--text-encoder", text.toString(), "--shard-size", "3", "--batch", "2", "--workers", "2", "--out", out.toString()));
        args.addAll(List.of(extra));
        return new CommandLine(new ExtractLatents()).execute(args.toArray(String[]::new));
    }

    private String[] train(Path shards, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("--latents", shards.toString(), "--batch", "2", "--log-every", "1", "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    /** Runs a command, returning its exit code and what it printed to stderr. */
    private static String run(Object command, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command);
        cl.setErr(new PrintWriter(err));
        return cl.execute(args) + " " + err;
    }

    private static long savedStep(Path checkpoint) {
        try (var c = Safetensors.index(checkpoint)) {
            return Long.parseLong(c.metadata().get("step"));
        }
    }

    @Test
    void extractTrainAndSampleMicroDiTInStages() throws Exception {
        long live = Torch.liveTensors();
        Path images = captionedImages(), vae = SampleTest.tinyVae(dir, 4), text = textEncoder(WIDTH), shards = dir.resolve("shards");
        assertEquals(0, extract(images, vae, text, shards, "--flip", "none"));
        checkShards(images, text, shards);
        long modified = Files.getLastModifiedTime(shards.resolve("00000000.safetensors")).toMillis();
        assertEquals(0, extract(images, vae, text, shards, "--flip", "none"), "a finished extraction resumes with nothing to do");
        assertEquals(modified, Files.getLastModifiedTime(shards.resolve("00000000.safetensors")).toMillis());

        String[] small = {"--model", "MicroDiT_Tiny_2", "--width", "64", "--depth", "1", "--caption-width", Integer.toString(WIDTH)};
        Path stage1 = dir.resolve("stage1"), ckpt1 = stage1.resolve("checkpoint.safetensors");
        String log = printed(() -> assertEquals("0 ", run(new TrainLatents(), train(shards, stage1, concat(small, "--stage", "1", "--warmup", "1", "--steps", "2")))));
        assertTrue(log.contains("mask 0.75") && log.contains("lr 0.00") && log.contains("lr 0.000240"), "stage 1: masked, warm-up from 0 to the peak: " + log);
        assertFiniteLosses(log, 2);
        assertEquals(2, savedStep(ckpt1));
        try (var c = Safetensors.index(ckpt1)) {
            assertEquals("1", c.metadata().get("stage"));
            assertEquals("0.75", c.metadata().get("mask_ratio"));
            assertEquals("0.9", c.metadata().get("edm_sigma_data"));
        }
        // Stage 2 continues stage 1's run (optimizer, step, data position), without masking.
        Path stage2 = dir.resolve("stage2"), ckpt2 = stage2.resolve("checkpoint.safetensors");
        assertEquals("0 ", run(new TrainLatents(), train(shards, stage2, concat(small, "--stage", "2", "--steps", "3", "--resume", ckpt1.toString()))));
        assertEquals(3, savedStep(ckpt2));
        // Stage 3 starts from stage 2's weights at pos_interp_scale 2: the position table is computed, the rest loaded.
        Path stage3 = dir.resolve("stage3"), ckpt3 = stage3.resolve("checkpoint.safetensors");
        assertEquals("0 ", run(new TrainLatents(), train(shards, stage3, concat(small, "--stage", "3", "--steps", "1", "--ema-start", "0",
                "--lr", "1e-12", "--init", ckpt2.toString()))));
        try (Safetensors.Contents before = Safetensors.read(ckpt2); Safetensors.Contents after = Safetensors.read(ckpt3);
             Tensor table = Embeddings.sincos2d(64, 4, 2.0)) {
            assertEquals(1, Long.parseLong(after.metadata().get("step")), "stage 3 counts from 0");
            assertTrue(after.metadata().get("config").contains("posInterpScale=2.0"), after.metadata().get("config"));
            assertArrayEquals(table.toFloatArray(), after.tensors().get("model.pos_embed").toFloatArray(), 1e-6f);
            assertFalse(java.util.Arrays.equals(before.tensors().get("model.pos_embed").toFloatArray(), table.toFloatArray()));
            float[] w2 = before.tensors().get("ema.x_embedder.proj.weight").toFloatArray(), w3 = after.tensors().get("model.x_embedder.proj.weight").toFloatArray();
            assertArrayEquals(w2, w3, 1e-6f, "the other weights come from stage 2 (one step at lr 1e-12 moves them by ~1e-12)");
        }
        // sample --prompt from the stage-1 checkpoint, decoding with the VAE
        Path samples = dir.resolve("samples");
        assertEquals("0 ", run(new Sample(), "--model", "MicroDiT_Tiny_2", "--weights", ckpt1.toString(), "--vae", vae.toString(), "--text-encoder",
                text.toString(), "--prompt", "a red square", "--prompt", "picture number 3", "--steps", "2", "--out", samples.toString()));
        BufferedImage grid = ImageIO.read(samples.resolve("prompts.png").toFile());
        assertTrue(grid.getWidth() >= 2 * 64, "two captioned 64-px cells, got " + grid.getWidth());
        assertEquals(live, Torch.liveTensors());
    }

    /** The shards hold each caption's embedding (as the encoder gives it, in float16), per-image counts and the empty caption. */
    private void checkShards(Path images, Path text, Path shards) {
        try (LatentFiles data = LatentFiles.open(shards, List.of()); TensorScope s = TensorScope.open(); var g = Autograd.noGrad();
             ClipTextEncoder encoder = textConfig(WIDTH).load(text, DType.FLOAT32, Device.CPU)) {
            assertTrue(data.captioned());
            assertEquals(5, data.size());
            assertArrayEquals(new long[] {CONTEXT, WIDTH}, data.captionShape());
            assertEquals(3, data.captionCount(1));
            assertEquals(1, data.captionCount(4));
            try (Safetensors.Contents c = Safetensors.read(shards.resolve("00000000.safetensors"))) {
                assertEquals(DType.FLOAT16, c.tensors().get(LatentFiles.CAPTIONS).dtype());
                assertArrayEquals(new long[] {5, CONTEXT, WIDTH}, c.tensors().get(LatentFiles.CAPTIONS).shape(), "1 + 3 + 1 captions in shard 0");
                assertArrayEquals(new long[] {1, 3, 1}, c.tensors().get(LatentFiles.CAPTION_COUNTS).toLongArray());
            }
            ClipTokenizer tokenizer = ClipTokenizer.open(OpenClipVocabularyFile.path()).withContextLength(CONTEXT);
            Tensor expected = encoder.encode(tokenizer, List.of("picture number 4")).to(DType.FLOAT16).to(DType.FLOAT32);
            assertArrayEquals(expected.toFloatArray(), data.captions(new long[] {4}, 0, 0).toFloatArray(), 0);
            Tensor empty = encoder.encode(tokenizer, List.of("")).to(DType.FLOAT16).to(DType.FLOAT32);
            assertArrayEquals(empty.toFloatArray(), data.emptyCaption().toFloatArray(), 0);
            // image 1 shows each of its three captions in some epoch, one per epoch
            Set<String> seen = new HashSet<>();
            for (long epoch = 0; epoch < 20; epoch++) seen.add(java.util.Arrays.toString(data.captions(new long[] {1}, epoch, 0).toFloatArray()));
            assertEquals(3, seen.size());
        }
    }

    /** The same images listed in a JSON-lines manifest instead (image 1 with its three captions). */
    private Path manifest() throws Exception {
        Path folder = captionedImages(), file = dir.resolve("manifest.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            String captions = Files.readString(folder.resolve("img" + i + ".txt")).strip().replace("\n", "\", \"");
            lines.append("{\"file\": \"images/img").append(i).append(".png\", \"captions\": [\"").append(captions).append("\"]}\n");
        }
        Files.writeString(file, lines);
        return file;
    }

    @Test
    void uvitTextTrainsOnManifestShardsAndSamples() throws Exception {
        long live = Torch.liveTensors();
        Path images = manifest(), vae = SampleTest.tinyVae(dir, 4), text = textEncoder(WIDTH), shards = dir.resolve("shards");
        assertEquals(0, extract(images, vae, text, shards, "--flip", "both"));
        try (LatentFiles data = LatentFiles.open(shards, List.of())) {
            assertEquals(10, data.size(), "each image and its mirror");
            assertEquals(3, data.captionCount(2), "latents 2 and 3 are image 1 and its mirror");
            assertEquals(3, data.captionCount(3));
        }
        Path out = dir.resolve("uvit"), ckpt = out.resolve("checkpoint.safetensors");
        String[] small = {"--model", "mscoco_uvit_small", "--width", "64", "--depth", "2", "--caption-width", Integer.toString(WIDTH)};
        assertFiniteLosses(printed(() -> assertEquals("0 ", run(new TrainLatents(), train(shards, out, concat(small, "--warmup", "0", "--steps", "2"))))), 2);
        assertEquals(2, savedStep(ckpt));
        Path samples = dir.resolve("samples");
        assertEquals("0 ", run(new Sample(), "--model", "mscoco_uvit_small", "--weights", ckpt.toString(), "--vae", vae.toString(), "--text-encoder",
                text.toString(), "--prompt", "a red square", "--steps", "2", "--out", samples.toString()));
        assertTrue(Files.exists(samples.resolve("prompts.png")));
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void mismatchesAreNamed() throws Exception {
        long live = Torch.liveTensors();
        Path images = captionedImages(), vae = SampleTest.tinyVae(dir, 4), text = textEncoder(WIDTH), shards = dir.resolve("shards");
        String noEncoder = run(new ExtractLatents(), "--images", images.toString(), "--vae", vae.toString(), "--image-size", "64", "--captions",
                "--out", dir.resolve("x").toString());
        assertTrue(noEncoder.contains("--captions needs --text-encoder"), noEncoder);
        assertEquals(0, extract(images, vae, text, shards, "--flip", "none"));
        String width = run(new TrainLatents(), train(shards, dir.resolve("o"), "--model", "MicroDiT_Tiny_2", "--steps", "1"));
        assertTrue(width.contains("holds 32-wide caption embeddings") && width.contains("takes 1024-wide caption tokens")
                && width.contains("--caption-width 32"), width);
        String classModel = run(new TrainLatents(), train(shards, dir.resolve("o"), "--model", "DiT-S/2", "--steps", "1"));
        assertTrue(classModel.contains("is class-conditional") && classModel.contains("holds caption embeddings"), classModel);
        // MicroDiT on latents without captions
        Path plain = dir.resolve("plain.safetensors");
        try (TensorScope s = TensorScope.open()) {
            LatentFiles.write(plain, Tensor.zeros(2, 4, 8, 8), Tensor.of(new long[] {0, 1}, 2), Map.of());
        }
        String noCaptions = run(new TrainLatents(), train(plain, dir.resolve("o"), "--model", "MicroDiT_Tiny_2", "--steps", "1"));
        assertTrue(noCaptions.contains("holds no caption embeddings: extract them with extract-latents --captions"), noCaptions);
        String badStage = run(new TrainLatents(), train(shards, dir.resolve("o"), "--model", "MicroDiT_Tiny_2", "--stage", "7"));
        assertTrue(badStage.contains("expected 1, 2, 3 or 4"), badStage);
        String warmup = run(new TrainLatents(), train(shards, dir.resolve("o"), "--model", "MicroDiT_Tiny_2", "--width", "64", "--depth", "1",
                "--caption-width", "32", "--steps", "2"));
        assertTrue(warmup.contains("warms up for 2500 steps") && warmup.contains("pass --warmup below --steps"), warmup);
        String uvitStage = run(new TrainLatents(), train(shards, dir.resolve("o"), "--model", "mscoco_uvit_small", "--caption-width", "32", "--stage", "1"));
        assertTrue(uvitStage.contains("applies to MicroDiT"), uvitStage);
        assertEquals(live, Torch.liveTensors(), "refusals free what they made");
    }

    /** What {@code body} prints to stdout. */
    private static String printed(Runnable body) {
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setOut(out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        out.print(text);
        return text;
    }

    private static void assertFiniteLosses(String log, int steps) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("step \\d+  loss (\\S+)").matcher(log);
        int n = 0;
        while (m.find()) {
            assertTrue(Double.isFinite(Double.parseDouble(m.group(1))), "loss " + m.group(1));
            n++;
        }
        assertEquals(steps, n, log);
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }
}
