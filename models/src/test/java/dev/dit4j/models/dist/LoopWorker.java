package dev.dit4j.models.dist;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.models.train.AdmObjective;
import dev.dit4j.models.train.DataParallelJob;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.nn.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank of {@link DataParallelLoopTest}: joins the job in its environment, trains a tiny DiT on
 * its shard of a global batch of 8 under a {@link TrainingLoop} with a time budget (rank 1 lags
 * every third step, so the ranks' clocks disagree), checkpoints every 5 steps, and prints
 * "rank R stopped at step N, K reports".
 *
 * <p>Arguments: the output folder, the budget in minutes, and optionally the step from which rank 1 alone asks to stop.
 */
public final class LoopWorker {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        double minutes = Double.parseDouble(args[1]);
        long stopAt = args.length > 2 ? Long.parseLong(args[2]) : Long.MAX_VALUE; // rank 1 alone asks to stop from this step
        dev.dit4j.nn.Torch.setNumThreads(1); // several workers share a small machine
        try (DataParallelJob job = DataParallelJob.join(Device.CPU);
             TensorDataset data = DdpWorker.data();
             DiT model = DdpWorker.ADM.create(Device.CPU, 10);
             DiT ema = DdpWorker.ADM.create(Device.CPU, 20);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(model, ema, new AdmObjective(), DdpWorker.OPTIONS, job.group());
             BatchLoader loader = job.shard(BatchLoader.builder(data, job.perRankBatch(8))).seed(3).build()) {
            List<Long> reports = new ArrayList<>();
            TrainingLoop.Result r = TrainingLoop.builder().minutes(minutes).logEvery(2).checkpoint(out.resolve("ckpt.safetensors"), 5)
                    .dataParallel(job).listener(p -> reports.add(p.step()))
                    .stopWhen(() -> job.rank() == 1 && trainer.step() >= stopAt)
                    .every(3, step -> {
                        if (job.rank() == 1) sleep(40);
                    })
                    .build()
                    .run(trainer, loader, b -> trainer.trainStep(b.images(), Conditioning.labels(b.labels(), 10)));
            System.out.println("rank " + job.rank() + " stopped at step " + r.step() + ", " + reports.size() + " reports" + (r.stopped() ? ", by request" : ""));
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
