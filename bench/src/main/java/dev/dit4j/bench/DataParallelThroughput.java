package dev.dit4j.bench;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.dist.ProcessGroup;
import dev.dit4j.nn.dist.Rendezvous;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * Data-parallel training throughput: the main job's DiT (depth 4, width 128, patch 4, 1x32x32)
 * trained on synthetic images at a fixed global batch, split over the ranks of the job in the
 * environment (bench/data-parallel.sh starts them); without that environment, or with
 * {@code --ddp off}, one process trains the whole batch. Rank 0 prints one JSON line with the
 * global img/s (median of the windows). With {@code --check true} in a one-process job, it
 * instead trains {@code --steps} steps through the process group and as many without one, from
 * the same weights, batch and seed, and prints the largest weight difference (world size 1: a
 * data-parallel step is the single-process step, so 0).
 *
 * <p>Options: --global-batch 64 --warmup 3 --steps 10 --windows 3 --device cpu --ddp on|off --check true|false
 */
public final class DataParallelThroughput {
    static final DiT.Config FASHION = new DiT.Config("fashion", 4, 128, 4, 4, 4.0, 1, 32, 10, true, 0.1);

    public static void main(String[] args) {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        int global = a.integer("global-batch", 64), warmup = a.integer("warmup", 3), steps = a.integer("steps", 10), windows = a.integer("windows", 3);
        boolean ddp = !a.get("ddp", "on").equals("off");
        Rendezvous r = ddp ? Rendezvous.fromEnvironment().orElse(null) : null;
        Device device = Device.parse(a.get("device", "cpu"));
        if (r != null && device.isCuda()) device = Device.cuda(r.localRank());
        if (Boolean.parseBoolean(a.get("check", "false"))) {
            check(r, device, global, steps);
            return;
        }
        try (ProcessGroup pg = r == null ? null : ProcessGroup.create(ProcessGroup.Backend.forDevice(device), r, Duration.ofMinutes(5));
             DiT model = FASHION.create(device, 0); DiT ema = FASHION.create(device, 0);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(model, ema, new dev.dit4j.models.train.AdmObjective(), DiffusionTrainer.Options.dit(), pg);
             Generator g = Generator.create(1 + (pg == null ? 0 : pg.rank()), device); TensorScope s = TensorScope.open()) {
            int world = pg == null ? 1 : pg.size();
            int batch = global / world;
            Tensor x = Tensor.randn(new long[] {batch, 1, 32, 32}, DType.FLOAT32, device, g);
            Conditioning y = Conditioning.labels(Tensor.randint(0, 10, new long[] {batch}, device, g), 10);
            double[] rates = StepWindows.rates(device, warmup, steps, windows, (double) batch * world, () -> trainer.trainStep(x, y).close(),
                    pg == null ? null : pg::barrier);
            if (pg == null || pg.rank() == 0) {
                System.out.printf(Locale.ROOT, "{\"bench\": \"data-parallel-train\", \"model\": \"DiT d4 w128 p4 1x32x32\", \"processes\": %d, "
                                + "\"global_batch\": %d, \"per_rank_batch\": %d, \"backend\": \"%s\", \"device\": \"%s\", \"threads_per_process\": %d, "
                                + "\"img_per_s\": %.2f, \"windows\": %s}%n", world, global, batch, pg == null ? "none" : pg.backend(), device,
                        Torch.numThreads(), StepWindows.median(rates), Arrays.toString(rates));
            }
        }
    }

    /**
     * A world-size-1 job's steps through the process group against the same steps without one;
     * prints the largest weight difference. The model drops no labels: its label dropout draws
     * from the process's default generator, which the two trainers would share.
     */
    private static void check(Rendezvous r, Device device, int batch, int steps) {
        DiT.Config config = FASHION.withClassDropout(0);
        if (r == null || r.worldSize() != 1) throw new IllegalArgumentException("--check needs a one-process job's environment (WORLD_SIZE=1, RANK=0)");
        try (ProcessGroup pg = ProcessGroup.create(ProcessGroup.Backend.forDevice(device), r, Duration.ofMinutes(5));
             DiT model = config.create(device, 0); DiT ema = config.create(device, 0); DiT alone = config.create(device, 0);
             DiT aloneEma = config.create(device, 0);
             DiffusionTrainer<DiT> parallel = new DiffusionTrainer<>(model, ema, new dev.dit4j.models.train.AdmObjective(), DiffusionTrainer.Options.dit(), pg);
             DiffusionTrainer<DiT> single = new DiffusionTrainer<>(alone, aloneEma, DiffusionTrainer.Options.dit());
             Generator g = Generator.create(1, device); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.randn(new long[] {batch, 1, 32, 32}, DType.FLOAT32, device, g);
            Conditioning y = Conditioning.labels(Tensor.randint(0, 10, new long[] {batch}, device, g), 10);
            for (int i = 0; i < steps; i++) {
                parallel.trainStep(x, y).close();
                single.trainStep(x, y).close();
            }
            double worst = 0;
            var a = model.namedParameters();
            var b = alone.namedParameters();
            for (var e : a.entrySet()) worst = Math.max(worst, e.getValue().sub(b.get(e.getKey())).abs().max().item());
            System.out.printf(Locale.ROOT, "{\"bench\": \"data-parallel-check\", \"backend\": \"%s\", \"device\": \"%s\", \"steps\": %d, "
                    + "\"max_abs_weight_difference\": %.3e, \"equal\": %b}%n", pg.backend(), device, steps, worst, worst == 0);
        }
    }
}
