package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.dit4j.models.eval.Evaluator;
import dev.dit4j.models.eval.ImageSource;
import dev.dit4j.models.eval.InceptionV3;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Npz;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EvaluateTest {
    @TempDir
    static Path dir;
    static Path weights, samples, reference;

    @BeforeAll
    static void files() {
        weights = InceptionParityTest.randomWeights(dir);
        samples = images("samples.npz", 6, 32, 1);
        reference = images("reference.npz", 8, 48, 2);
    }

    static Path images(String name, int n, int side, long seed) {
        byte[] bytes = new byte[n * side * side * 3];
        new Random(seed).nextBytes(bytes);
        Path p = dir.resolve(name);
        Npz.write(p, List.of(Npz.uint8("arr_0", new long[] {n, side, side, 3}, out -> out.write(bytes))));
        return p;
    }

    static Path floats(String name, String descr, List<String> names, List<long[]> shapes, double fill) {
        Path p = dir.resolve(name);
        List<Npz.Array> arrays = new java.util.ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            long[] shape = shapes.get(i);
            long count = 1;
            for (long d : shape) count *= d;
            int size = descr.equals("<f8") ? 8 : 4;
            ByteBuffer b = ByteBuffer.allocate((int) count * size).order(ByteOrder.LITTLE_ENDIAN);
            for (long j = 0; j < count; j++) {
                if (size == 8) b.putDouble(fill);
                else b.putFloat((float) fill);
            }
            arrays.add(new Npz.Array(names.get(i), descr, size, shape, out -> out.write(b.array())));
        }
        Npz.write(p, arrays);
        return p;
    }

    static int run(String... args) throws Exception {
        Evaluate e = new Evaluate();
        new CommandLine(e).parseArgs(args);
        return e.call();
    }

    private static double field(String json, String key) {
        JsonObject fields = JsonParser.parseString(json).getAsJsonObject();
        assertTrue(fields.has(key), key + " in " + json);
        return fields.get(key).isJsonNull() ? Double.NaN : fields.get(key).getAsDouble();
    }

    @Test
    void writesTheFiveMetricsAndReusableStatistics() throws Exception {
        long live = Torch.liveTensors();
        Path json = dir.resolve("metrics.json"), stats = dir.resolve("ref-stats.npz");
        assertEquals(0, run("--samples", samples.toString(), "--reference", reference.toString(), "--inception", weights.toString(),
                "--out", json.toString(), "--batch", "4"));
        String text = Files.readString(json);
        for (String k : List.of("fid", "sfid", "inception_score", "precision", "recall")) assertTrue(Double.isFinite(field(text, k)), k + ": " + text);
        // the same through the library
        try (InceptionV3 net = InceptionV3.load(weights, Device.CPU)) {
            Evaluator ev = new Evaluator(net, 5);
            try (ImageSource s = ImageSource.open(samples); Evaluator.SetFeatures a = ev.extract(s, Evaluator.Progress.NONE);
                 Evaluator.SetFeatures b = ev.reference(reference, Evaluator.Progress.NONE)) {
                Evaluator.Metrics m = ev.compare(a, b);
                assertEquals(m.fid(), field(text, "fid"), 1e-6 * m.fid());
                assertEquals(m.sfid(), field(text, "sfid"), 1e-6 * m.sfid());
                assertEquals(m.inceptionScore(), field(text, "inception_score"), 1e-9);
            }
        }
        // the reference's statistics saved, then used as the reference: same FID and sFID, no precision/recall
        assertEquals(0, run("--samples", reference.toString(), "--inception", weights.toString(), "--stats-out", stats.toString()));
        Path json2 = dir.resolve("metrics2.json");
        assertEquals(0, run("--samples", samples.toString(), "--reference", stats.toString(), "--inception", weights.toString(),
                "--out", json2.toString()));
        String text2 = Files.readString(json2);
        assertEquals(field(text, "fid"), field(text2, "fid"), 1e-6 * field(text, "fid"));
        assertEquals(field(text, "sfid"), field(text2, "sfid"), 1e-6 * field(text, "sfid"));
        assertTrue(Double.isNaN(field(text2, "precision")) && Double.isNaN(field(text2, "recall")), text2);
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void hostileInputsGetClearErrors() throws Exception {
        long live = Torch.liveTensors();
        String w = weights.toString(), r = reference.toString();
        Path f32 = floats("float-images.npz", "<f4", List.of("arr_0"), List.of(new long[] {2, 8, 8, 3}), 0.5);
        expect("'arr_0' must be uint8 images [N, H, W, 3], found dtype '<f4' shape [2, 8, 8, 3]", "--samples", f32.toString(), "--reference", r, "--inception", w);
        Path rank3 = dir.resolve("rank3.npz");
        Npz.write(rank3, List.of(Npz.uint8("arr_0", new long[] {2, 8, 8}, out -> out.write(new byte[128]))));
        expect("found dtype '|u1' shape [2, 8, 8]", "--samples", rank3.toString(), "--reference", r, "--inception", w);
        Path noImages = floats("other.npz", "<f4", List.of("x"), List.of(new long[] {3}), 0);
        expect("holds neither images 'arr_0' nor statistics", "--samples", samples.toString(), "--reference", noImages.toString(), "--inception", w);
        Path mismatched = floats("mismatched.npz", "<f8", List.of("mu", "sigma"), List.of(new long[] {2048}, new long[] {64, 64}), 0);
        expect("'sigma' must be floating point [2048, 2048] to match 'mu', found", "--samples", samples.toString(), "--reference", mismatched.toString(), "--inception", w);
        Path narrow = floats("narrow.npz", "<f8", List.of("mu", "sigma"), List.of(new long[] {64}, new long[] {64, 64}), 0);
        expect("'mu' has 64 features, but the Inception's pool3 have 2048", "--samples", samples.toString(), "--reference", narrow.toString(), "--inception", w);
        Path nan = floats("nan.npz", "<f8", List.of("mu", "sigma"), List.of(new long[] {2048}, new long[] {2048, 2048}), Double.NaN);
        expect("non-finite", "--samples", samples.toString(), "--reference", nan.toString(), "--inception", w);
        expect("does not exist", "--samples", dir.resolve("missing.npz").toString(), "--reference", r, "--inception", w);
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    /** A tiny random CLIP model as transformers' CLIPModel file (vision_model., visual_projection, text_model., text_projection) with its config.json. */
    static Path tinyClip(Path folder) throws Exception {
        Files.createDirectories(folder);
        java.util.Map<String, dev.dit4j.nn.Tensor> all = new java.util.LinkedHashMap<>();
        dev.dit4j.models.text.ClipVisionConfig vc = dev.dit4j.models.text.ClipVisionConfig.CLIP_VIT_L_14.with(b -> b.imageSize(32).patchSize(8)
                .width(32).layers(1).heads(2).mlpWidth(64).projectionDim(16));
        dev.dit4j.models.text.ClipTextConfig tc = dev.dit4j.models.text.ClipTextConfig.CLIP_VIT_L_14.with(b -> b.width(32).layers(1).heads(2).mlpWidth(64));
        try (var vision = vc.create(Device.CPU, 1); var text = tc.create(Device.CPU, 2);
             dev.dit4j.nn.Generator g = dev.dit4j.nn.Generator.create(3, Device.CPU); dev.dit4j.nn.TensorScope s = dev.dit4j.nn.TensorScope.open()) {
            vision.stateDict().forEach((k, v) -> all.put(k.startsWith("visual_projection") ? k : "vision_model." + k, v));
            text.stateDict().forEach((k, v) -> all.put("text_model." + k, v));
            // a shared offset after both final LayerNorms and one projection for both: image and prompt embeddings then
            // point roughly one way, so that the cosines are positive and the score is not 0
            dev.dit4j.nn.Tensor shared = dev.dit4j.nn.Tensor.randn(new long[] {32}, dev.dit4j.nn.DType.FLOAT32, Device.CPU, g).mul(2);
            all.put("vision_model.post_layernorm.bias", shared);
            all.put("text_model.final_layer_norm.bias", shared);
            {
                all.put("text_projection.weight", all.get("visual_projection.weight"));
                Path file = folder.resolve("model.safetensors");
                dev.dit4j.nn.io.Safetensors.save(file, all);
                Files.writeString(folder.resolve("config.json"), "{\"text_config\": {\"num_attention_heads\": 2}, \"vision_config\": {\"num_attention_heads\": 2}}");
                return file;
            }
        }
    }

    @Test
    void clipScoreOfSamplesAgainstTheirPromptsIsTheFormula() throws Exception {
        long live = Torch.liveTensors();
        Path clip = tinyClip(dir.resolve("clip"));
        Path images = images("clip-samples.npz", 5, 40, 9);
        Path prompts = Files.writeString(dir.resolve("prompts.txt"), "a red sneaker\na blue bag\n\na photograph of an astronaut riding a horse\ntwo dogs\n");
        Path vocab = OpenClipVocabularyFile.path();
        Path json = dir.resolve("clip.json");
        assertEquals(0, run("--samples", images.toString(), "--clip-score", "--prompts", prompts.toString(), "--clip-weights", clip.toString(),
                "--vocab", vocab.toString(), "--out", json.toString(), "--batch", "2"));
        String text = Files.readString(json);
        double got = field(text, "clip_score");
        // the formula, written out: 100 x mean over images of max(cos(image embedding, prompt embedding), 0)
        try (dev.dit4j.models.eval.ClipScore score = dev.dit4j.models.eval.ClipScore.load(clip, null, vocab, Device.CPU);
             ImageSource source = ImageSource.open(images); dev.dit4j.nn.TensorScope s = dev.dit4j.nn.TensorScope.open()) {
            double[] img = score.imageFeatures(source.next(5)).contiguous().toDoubleArray();
            double[] txt = score.textFeatures(List.of("a red sneaker", "a blue bag", "", "a photograph of an astronaut riding a horse", "two dogs"))
                    .contiguous().toDoubleArray();
            int d = img.length / 5;
            assertEquals(16, d);
            double sum = 0, mean = 0;
            for (int i = 0; i < 5; i++) {
                double dot = 0, a = 0, b = 0;
                for (int j = 0; j < d; j++) {
                    dot += img[i * d + j] * txt[i * d + j];
                    a += img[i * d + j] * img[i * d + j];
                    b += txt[i * d + j] * txt[i * d + j];
                }
                double cos = dot / Math.sqrt(a * b);
                sum += Math.max(cos, 0);
                mean += cos / 5;
            }
            assertTrue(got > 10, "positive cosines: " + got);
            assertEquals(100 * sum / 5, got, 1e-4);
            assertEquals(Math.max(100 * mean, 0), field(text, "clip_score_torchmetrics"), 1e-4);
        }
        // the text tower from a file of its own gives the same score
        Path json2 = dir.resolve("clip2.json");
        assertEquals(0, run("--samples", images.toString(), "--clip-score", "--prompts", prompts.toString(), "--clip-weights", clip.toString(),
                "--clip-text-weights", clip.toString(), "--vocab", vocab.toString(), "--out", json2.toString()));
        assertEquals(got, field(Files.readString(json2), "clip_score"), 1e-5, "one batch instead of 2, 2, 1");

        Path fewer = Files.writeString(dir.resolve("fewer.txt"), "one\ntwo\n");
        expect("holds 5 images but there are 2 prompts", "--samples", images.toString(), "--clip-score", "--prompts", fewer.toString(),
                "--clip-weights", clip.toString(), "--vocab", vocab.toString());
        expect("--clip-score needs --prompts and --clip-weights", "--samples", images.toString(), "--clip-score", "--prompts", fewer.toString());
        expect("are for --clip-score", "--samples", images.toString(), "--prompts", fewer.toString(), "--stats-out", dir.resolve("x.npz").toString(),
                "--inception", weights.toString());
        expect("need --inception", "--samples", images.toString(), "--reference", reference.toString());
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    private static void expect(String message, String... args) {
        Exception e = assertThrows(Exception.class, () -> run(args));
        assertTrue(e.getMessage().contains(message), "expected \"" + message + "\" in: " + e.getMessage());
    }
}
