package dev.dit4j.examples.options;

import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --resume}: continue a training run from its checkpoint, data position included. */
public final class ResumeOption {
    @Option(names = "--resume", description = "resume from this checkpoint")
    private Path resume;

    /** The checkpoint, or null when --resume was not given. */
    public Path file() {
        return resume;
    }

    /**
     * Checks, before a command does any other work, that the checkpoint is one that
     * {@link #restore} can load into a trainer of {@code model}: readable, saved from the same
     * configuration, with the model, EMA, optimizer and RNG tensors of the right names and shapes
     * and a data-loader position. Does nothing when --resume was not given.
     */
    public void check(DiffusionModel<?> model) {
        if (resume == null) return;
        try (WeightSource c = Safetensors.index(resume)) { // the header only: the data is read once, by restore
            Map<String, String> meta = c.metadata();
            String config = meta.get("config");
            if (config == null) throw bad("has no 'config' metadata: it is not a dit4j training checkpoint");
            if (!config.equals(model.describe())) {
                throw bad("was saved from " + config + ", but this run builds " + model.describe()
                        + ": pass the options that run used, or start without --resume");
            }
            List<String> problems = new ArrayList<>();
            Map<String, long[]> params = new LinkedHashMap<>();
            model.stateDict().forEach((k, t) -> params.put(k, t.shape()));
            compare("model.", params, c, problems);
            compare("ema.", params, c, problems);
            Map<String, long[]> moments = new LinkedHashMap<>();
            List<Tensor> trainable = List.copyOf(model.namedTrainableParameters().values());
            for (int i = 0; i < trainable.size(); i++) { // the optimizer's state, by parameter index
                moments.put(i + ".exp_avg", trainable.get(i).shape());
                moments.put(i + ".exp_avg_sq", trainable.get(i).shape());
                moments.put(i + ".step", null);
            }
            compare("opt.", moments, c, problems);
            for (String key : List.of("rng.trainer", "rng.default")) if (c.shape(key) == null) problems.add("no '" + key + "'");
            if (!problems.isEmpty()) throw bad("does not fit " + model.describe() + ": " + String.join("; ", problems));
            BatchLoader.State.decode(meta.get("loader"), "checkpoint " + resume);
            try {
                if (Long.parseLong(meta.getOrDefault("step", "")) < 0) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw bad("has no valid 'step' metadata, got '" + meta.get("step") + "'");
            }
        }
    }

    /**
     * Loads the checkpoint into {@code trainer} and returns the data loader's saved position, or
     * returns null (start from the beginning) when --resume was not given.
     */
    public BatchLoader.State restore(DiffusionTrainer<?> trainer) {
        return resume == null ? null : BatchLoader.State.decode(trainer.load(resume).get("loader"), resume);
    }

    /**
     * Adds to {@code problems} the keys under {@code prefix} that are missing, unexpected or
     * mis-shaped against {@code shapes} (null: any shape), a few of each.
     */
    private static void compare(String prefix, Map<String, long[]> shapes, WeightSource saved, List<String> problems) {
        List<String> missing = new ArrayList<>(), misshaped = new ArrayList<>(), unexpected = new ArrayList<>();
        shapes.forEach((k, shape) -> {
            long[] s = saved.shape(prefix + k);
            if (s == null) missing.add(prefix + k);
            else if (shape != null && !Arrays.equals(s, shape)) {
                misshaped.add(prefix + k + " " + Arrays.toString(s) + ", expected " + Arrays.toString(shape));
            }
        });
        for (String k : saved.keys()) if (k.startsWith(prefix) && !shapes.containsKey(k.substring(prefix.length()))) unexpected.add(k);
        report("missing", missing, problems);
        report("mis-shaped", misshaped, problems);
        report("unexpected", unexpected, problems);
    }

    private static void report(String what, List<String> keys, List<String> problems) {
        if (keys.isEmpty()) return;
        problems.add(keys.size() + " " + what + " (" + String.join(", ", keys.subList(0, Math.min(3, keys.size())))
                + (keys.size() > 3 ? ", ..." : "") + ")");
    }

    private IllegalArgumentException bad(String what) {
        return new IllegalArgumentException("checkpoint " + resume + " " + what);
    }
}
