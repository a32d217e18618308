package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Careless command lines are refused before any work, with a message naming the option and the value. */
class CarelessArgumentsTest {
    @TempDir
    Path dir;

    /** Runs a command as the dit4j launcher would; returns its exit code and what it printed to stderr. */
    private record Run(int code, String err) {}

    private static Run run(Object command, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(command);
        cli.setErr(new PrintWriter(err));
        return new Run(cli.execute(args), err.toString());
    }

    private static void assertUsageError(Run r, String... fragments) {
        assertEquals(2, r.code(), "a usage error: " + r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
    }

    private static void assertRefused(Supplier<Object> command, String option, String value, String... before) {
        String[] args = new String[before.length + 2];
        System.arraycopy(before, 0, args, 0, before.length);
        args[before.length] = option;
        args[before.length + 1] = value;
        assertUsageError(run(command.get(), args), "Invalid value for option '" + option + "'", "'" + value + "'");
    }

    @Test
    @Timeout(30)
    void nonFiniteAndOutOfRangeNumbersAreUsageErrors() {
        Map<String, List<String>> train = new LinkedHashMap<>();
        train.put("--cfg", List.of("NaN", "Infinity", "-1"));
        train.put("--minutes", List.of("0", "-Infinity", "NaN", "five"));
        train.put("--lr", List.of("NaN", "0", "-1e-3"));
        train.put("--ema", List.of("1", "-0.1", "NaN"));
        train.put("--batch", List.of("0", "-4", "99999999999"));
        train.put("--sample-steps", List.of("0"));
        train.put("--dpm-steps", List.of("-3"));
        train.put("--fid-every", List.of("-1", "x"));
        train.put("--depth", List.of("0"));
        train.put("--hidden", List.of("0"));
        train.put("--patch", List.of("0"));
        train.forEach((option, values) -> values.forEach(v -> assertRefused(TrainDiT::new, option, v)));

        String[] latents = {"--model", "DiT-S/8", "--latents", "x.safetensors"};
        for (String option : List.of("--steps", "--log-every", "--save-every", "--classes", "--depth")) assertRefused(TrainLatents::new, option, "0", latents);
        assertRefused(TrainLatents::new, "--grad-clip", "NaN", latents);
        assertRefused(TrainLatents::new, "--grad-clip", "-1", latents);
        assertRefused(TrainLatents::new, "--autocast", "fp8", latents);
        assertRefused(TrainLatents::new, "--ema", "1.5", latents);

        String[] sample = {"--model", "DiT-S/8", "--weights", "w"};
        assertRefused(Sample::new, "--dtype", "int8", sample);
        assertRefused(Sample::new, "--dtype", "float64", sample);

        String[] parity = {"--model", "DiT-S/8", "--weights", "w", "--inputs", "i", "--out", "o"};
        assertRefused(Parity::new, "--cfg", "NaN", parity);
        assertRefused(Parity::new, "--cfg", "-Infinity", parity);
        assertRefused(MlpDemo::new, "--steps", "0");
        assertRefused(MlpDemo::new, "--lr", "Infinity");
    }

    @Test
    @Timeout(30)
    void valuesAtTheEdgesOfTheirRangesAreAccepted() {
        TrainDiT dit = new TrainDiT();
        new CommandLine(dit).parseArgs("--cfg", "0", "--ema", "0", "--minutes", "0.05", "--batch", "1", "--lr", "1e-9");
        assertEquals(0.0, dit.cfgScale);
        assertEquals(0.0, dit.emaOption.decay());
        assertEquals(0.05, dit.minutesOption.minutes());
        TrainLatents latents = new TrainLatents();
        new CommandLine(latents).parseArgs("--model", "DiT-S/8", "--latents", "x", "--grad-clip", "0", "--steps", "1", "--autocast", "BFloat16");
        assertEquals("bfloat16", latents.autocast);
        assertEquals(1, latents.steps);
        Sample sample = new Sample();
        new CommandLine(sample).parseArgs("--model", "DiT-S/8", "--weights", "w", "--dtype", "BFloat16");
        assertEquals("bfloat16", sample.dtype);
    }

    @Test
    @Timeout(60)
    void parityRefusesToWriteOverItsWeightsOrInputs() throws IOException {
        Path weights = Files.write(dir.resolve("w.safetensors"), new byte[] {1, 2, 3});
        Path inputs = Files.write(dir.resolve("in.safetensors"), new byte[] {4, 5, 6});
        Files.createDirectories(dir.resolve("sub"));
        for (String out : List.of(weights.toString(), dir.resolve("sub/../w.safetensors").toString())) {
            assertUsageError(run(new Parity(), "--model", "DiT-S/8", "--weights", weights.toString(), "--inputs", inputs.toString(), "--out", out),
                    "is the same file as --weights");
        }
        assertUsageError(run(new Parity(), "--model", "DiT-S/8", "--weights", weights.toString(), "--inputs", inputs.toString(),
                "--out", inputs.toString()), "is the same file as --inputs");
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), weights);
        assertUsageError(run(new Parity(), "--model", "DiT-S/8", "--weights", link.toString(), "--inputs", inputs.toString(),
                "--out", weights.toString()), "is the same file as --weights");
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(weights), "the weights are untouched");
        assertArrayEquals(new byte[] {4, 5, 6}, Files.readAllBytes(inputs));
    }

    @Test
    @Timeout(30)
    void flopsRefusesATableFileThatIsTheReadmeItRewrites() throws IOException {
        Path readme = Files.writeString(dir.resolve("README.md"), "keep me\n" + Flops.BEGIN + "\nold\n" + Flops.END + "\n");
        assertUsageError(run(new Flops(), "--models", "DiT-S/8", "--readme", readme.toString(), "--out", readme.toString()),
                "is the same file as --readme");
        assertTrue(Files.readString(readme).startsWith("keep me"));
    }

    @Test
    @Timeout(60)
    void trainingOutputsMayNotLandOnTheirInputs() throws IOException {
        Path shards = Files.createDirectories(dir.resolve("shards"));
        Path shard = Files.writeString(shards.resolve("a.safetensors"), "latents");
        assertUsageError(run(new TrainLatents(), "--model", "DiT-S/8", "--latents", shards.toString(), "--out", shards.toString()),
                "--out", "is the same file as --latents");
        Path named = Files.writeString(dir.resolve("checkpoint.safetensors"), "latents too");
        assertUsageError(run(new TrainLatents(), "--model", "DiT-S/8", "--latents", named.toString(), "--out", dir.toString()),
                "the checkpoint", "is the same file as --latents");
        assertUsageError(run(new TrainLatents(), "--model", "DiT-S/8", "--latents", shards.toString(), "--out", shard.toString()),
                "is a file, not a folder");

        Path out = Files.createDirectories(dir.resolve("run"));
        Path classifier = Files.writeString(out.resolve("classifier.safetensors"), "judge");
        assertUsageError(run(new TrainDiT(), "--out", out.toString(), "--resume", classifier.toString()), "is the same file as --resume");
        assertUsageError(run(new TrainDiT(), "--out", classifier.toString(), "--resume", classifier.toString()), "is a file, not a folder");
        assertEquals("judge", Files.readString(classifier));
        assertEquals("latents", Files.readString(shard));
    }

    /** --resume is checked before the classifier trains: a checkpoint that cannot resume fails in well under the judge's minute. */
    @Test
    @Timeout(120)
    void aCheckpointThatCannotResumeIsRefusedBeforeAnyTraining() throws IOException {
        long live = Torch.liveTensors();
        Path good = dir.resolve("good.safetensors");
        Map<String, Tensor> tensors;
        Map<String, String> metadata;
        var config = FashionModels.DIT.config(new dev.dit4j.examples.options.ModelSizeOption(4, 128, 4)); // train's defaults
        var recipe = FashionModels.recipe(config);
        try (DiffusionModel<?> net = config.create(Device.CPU, 0); DiffusionModel<?> ema = config.create(Device.CPU, 0);
             DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, recipe.objective(), FashionModels.options(recipe, 1e-3, 0.995, 0))) {
            trainer.save(good, Map.of("loader", "0:0:0"));
        }
        try (Safetensors.Contents c = Safetensors.read(good)) {
            tensors = new LinkedHashMap<>(c.tensors());
            metadata = c.metadata();
            tensors.remove("rng.trainer");
            Safetensors.save(dir.resolve("no-rng.safetensors"), tensors, metadata);
            Map<String, String> noLoader = new LinkedHashMap<>(metadata);
            noLoader.remove("loader");
            Safetensors.save(dir.resolve("no-loader.safetensors"), c.tensors(), noLoader);
            Map<String, Tensor> noOpt = new LinkedHashMap<>(c.tensors());
            noOpt.keySet().removeIf(k -> k.startsWith("opt.1."));
            Safetensors.save(dir.resolve("no-opt.safetensors"), noOpt, metadata);
        }
        Files.write(dir.resolve("garbage.safetensors"), new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9});

        TrainDiT fits = new TrainDiT();
        new CommandLine(fits).parseArgs("--resume", good.toString());
        try (DiffusionModel<?> net = config.create(Device.CPU, 0)) {
            fits.resumeOption.check(net); // the checkpoint train writes passes
        }
        assertResumeFails(good, List.of("--depth", "2"), "was saved from", "depth=4", "this run builds", "depth=2");
        assertResumeFails(dir.resolve("no-rng.safetensors"), List.of(), "no 'rng.trainer'");
        assertResumeFails(dir.resolve("no-loader.safetensors"), List.of(), "data-loader position");
        assertResumeFails(dir.resolve("no-opt.safetensors"), List.of(), "missing (opt.1.exp_avg");
        assertResumeFails(dir.resolve("garbage.safetensors"), List.of(), "not a safetensors file");
        assertResumeFails(dir.resolve("absent.safetensors"), List.of(), "cannot read");
        assertEquals(live, Torch.liveTensors());
    }

    private void assertResumeFails(Path checkpoint, List<String> extra, String... fragments) {
        Path out = dir.resolve("out-" + checkpoint.getFileName());
        TrainDiT train = new TrainDiT();
        List<String> args = new java.util.ArrayList<>(List.of("--out", out.toString(), "--resume", checkpoint.toString()));
        args.addAll(extra);
        new CommandLine(train).parseArgs(args.toArray(String[]::new));
        long start = System.nanoTime();
        RuntimeException e = assertThrows(RuntimeException.class, train::call);
        assertTrue(e instanceof IllegalArgumentException || e instanceof CheckpointException, e.toString());
        assertTrue(e.getMessage().contains(checkpoint.getFileName().toString()), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        assertFalse(Files.exists(out.resolve("classifier.safetensors")), "the classifier never trained");
        assertTrue((System.nanoTime() - start) / 1e9 < 20, "refused at once");
    }

    @Test
    @Timeout(30)
    void aCudaDeviceOnACpuBuildSaysWhatToInstall() {
        if (Torch.cudaAvailable()) return; // the CPU-build message needs a CPU-only libtorch
        assertUsageError(run(new MlpDemo(), "--device", "cuda:0"), "Invalid value for option '--device'",
                "CUDA is not available in this libtorch", "CPU build", "LIBTORCH", "How libtorch is found");
    }

    @Test
    @Timeout(60)
    void parityNamesTheInputTensorThatDoesNotFit() throws IOException {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); DiffusionModel<?> model = dev.dit4j.models.DiT.PRESETS.get("DiT-S/8").withInputSize(16).create(Device.CPU, 1)) {
            Safetensors.save(dir.resolve("w.safetensors"), model.stateDict());
            Tensor x4 = Tensor.zeros(2, 4, 16, 16), t = Tensor.of(new long[] {1, 2}, 2), y = Tensor.of(new long[] {0, 1000}, 2);
            assertParityInput(Map.of("x", Tensor.zeros(2, 3, 16, 16), "t", t, "y", y), "'x'", "4 channels", "found 3 channels");
            assertParityInput(Map.of("x", Tensor.zeros(2, 4, 16), "t", t, "y", y), "'x'", "[N, C, H, W]", "[2, 4, 16]");
            assertParityInput(Map.of("x", x4, "t", Tensor.zeros(2, 1), "y", y), "'t'", "[N] = [2]", "[2, 1]");
            assertParityInput(Map.of("x", x4, "t", t, "y", Tensor.zeros(2)), "'y'", "integer class labels", "FLOAT32");
            assertParityInput(Map.of("x", x4, "t", t, "y", Tensor.of(new long[] {0}, 1)), "'y'", "[N] = [2]", "[1]");
            assertParityInput(Map.of("x", x4, "t", t, "y", Tensor.of(new long[] {0, 1001}, 2)), "'y'", "[0, 1000]", "[0, 1001]");
        }
        assertEquals(live, Torch.liveTensors());
    }

    private void assertParityInput(Map<String, Tensor> inputs, String... fragments) {
        Safetensors.save(dir.resolve("in.safetensors"), inputs);
        Parity p = new Parity();
        new CommandLine(p).parseArgs("--model", "DiT-S/8", "--weights", dir.resolve("w.safetensors").toString(),
                "--inputs", dir.resolve("in.safetensors").toString(), "--out", dir.resolve("o.safetensors").toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::call);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains("in.safetensors"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("o.safetensors")));
    }
}
