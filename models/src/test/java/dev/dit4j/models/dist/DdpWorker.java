package dev.dit4j.models.dist;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.models.train.AdmObjective;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.dist.ProcessGroup;
import dev.dit4j.nn.dist.Rendezvous;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One worker of the data-parallel tests, started as its own JVM with the launcher's environment
 * (none: a single process). Trains a tiny DiT on 64 synthetic images and writes its final
 * parameters to {@code <out>/rank<r>.safetensors}.
 *
 * <p>Arguments, {@code key=value}: {@code objective} fixed|adm ({@code fixed}: {@link FixedNoiseObjective}
 * and no label dropout; {@code adm}: DiT's objective and dropout, per-rank randomness), {@code out},
 * {@code steps}, {@code batch} (per rank), {@code checkpointEvery} (to {@code <out>/ckpt.safetensors}),
 * {@code haltAfter} (the JVM stops dead after that step, as a kill would), {@code resume} (a
 * checkpoint), {@code timeout} (seconds, the process group's). Every step prints "step N".
 */
public final class DdpWorker {
    static final DiT.Config FIXED = new DiT.Config("tiny", 2, 32, 2, 4, 2.0, 1, 8, 10, false, 0);
    static final DiT.Config ADM = FIXED.withLearnSigma(true).withClassDropout(0.1);
    static final DiffusionTrainer.Options OPTIONS = DiffusionTrainer.Options.dit().withLr(1e-3).withEmaDecay(0.9).withGradClip(1.0).withSeed(5);

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>();
        for (String arg : args) a.put(arg.substring(0, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        boolean fixed = a.get("objective").equals("fixed");
        Path out = Path.of(a.get("out"));
        int steps = Integer.parseInt(a.get("steps"));
        int batch = Integer.parseInt(a.get("batch"));
        int checkpointEvery = Integer.parseInt(a.getOrDefault("checkpointEvery", "0"));
        int haltAfter = Integer.parseInt(a.getOrDefault("haltAfter", "-1"));
        Path resume = a.containsKey("resume") ? Path.of(a.get("resume")) : null;
        Duration timeout = Duration.ofSeconds(Long.parseLong(a.getOrDefault("timeout", "60")));
        dev.dit4j.nn.Torch.setNumThreads(1); // several workers share a small machine
        Rendezvous r = Rendezvous.fromEnvironment().orElse(null);
        int rank = r == null ? 0 : r.rank();
        int world = r == null ? 1 : r.worldSize();
        DiT.Config config = fixed ? FIXED : ADM;
        TrainingObjective objective = fixed ? new FixedNoiseObjective() : new AdmObjective();
        try (ProcessGroup pg = r == null ? null : ProcessGroup.create(ProcessGroup.Backend.GLOO, r, timeout);
             TensorDataset data = data();
             DiT model = config.create(Device.CPU, 10 + rank); // ranks start apart: the trainer's broadcast must align them
             DiT ema = config.create(Device.CPU, 20 + rank);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(model, ema, objective, OPTIONS, pg)) {
            Files.createDirectories(out);
            save(model, ema, out.resolve("rank" + rank + "-start.safetensors"));
            BatchLoader.State from = null;
            if (resume != null) from = BatchLoader.State.decode(trainer.load(resume).get("loader"), resume);
            try (BatchLoader loader = BatchLoader.builder(data, batch).seed(3).randomFlip(true).shard(rank, world).resumeFrom(from).build()) {
                while (trainer.step() < steps) {
                    try (BatchLoader.Batch b = loader.next(); TensorScope s = TensorScope.open()) {
                        trainer.trainStep(b.images(), Conditioning.labels(b.labels(), 10));
                    }
                    System.out.println("step " + trainer.step());
                    if (checkpointEvery > 0 && trainer.step() % checkpointEvery == 0) {
                        trainer.save(out.resolve("ckpt.safetensors"), Map.of("loader", loader.state().encode()));
                    }
                    if (trainer.step() == haltAfter) Runtime.getRuntime().halt(3);
                }
            }
            save(model, ema, out.resolve("rank" + rank + ".safetensors"));
        }
    }

    private static void save(DiT model, DiT ema, Path file) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> weights.put("model." + k, v));
        ema.stateDict().forEach((k, v) -> weights.put("ema." + k, v));
        Safetensors.save(file, weights, Map.of());
    }

    /** 64 images 1x8x8 in [-1, 1] with labels, the same in every process. */
    static TensorDataset data() {
        try (Generator g = Generator.cpu(7)) {
            Tensor x = Tensor.rand(new long[] {64, 1, 8, 8}, DType.FLOAT32, Device.CPU, g).mul_(2).add_(-1);
            Tensor y = Tensor.randint(0, 10, new long[] {64}, Device.CPU, g);
            return new TensorDataset(TensorScope.release(x), TensorScope.release(y), List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
        }
    }
}
