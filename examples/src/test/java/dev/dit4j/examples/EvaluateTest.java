package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        Matcher m = Pattern.compile("\"" + key + "\": ([^,}]+)").matcher(json);
        assertTrue(m.find(), key + " in " + json);
        return m.group(1).equals("null") ? Double.NaN : Double.parseDouble(m.group(1));
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

    private static void expect(String message, String... args) {
        Exception e = assertThrows(Exception.class, () -> run(args));
        assertTrue(e.getMessage().contains(message), "expected \"" + message + "\" in: " + e.getMessage());
    }
}
