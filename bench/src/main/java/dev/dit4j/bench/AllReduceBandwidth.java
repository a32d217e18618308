package dev.dit4j.bench;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.dist.ProcessGroup;
import dev.dit4j.nn.dist.Rendezvous;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;

/**
 * All-reduce bandwidth of a process group (the job in the environment; bench/data-parallel.sh
 * starts it) on one float32 tensor of --floats elements (default 130M: the gradient of DiT-B/2,
 * about 130M parameters), averaged as the trainer averages gradients. Rank 0 prints
 * the median time and the bus bandwidth, NCCL-tests' measure: 2 (n-1)/n bytes / time.
 *
 * <p>Options: --floats 130000000 --iters 5 --warmup 1 --device cpu --op avg|sum
 */
public final class AllReduceBandwidth {
    public static void main(String[] args) {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        long floats = Long.parseLong(a.get("floats", "130000000"));
        int iters = a.integer("iters", 5), warmup = a.integer("warmup", 1);
        ProcessGroup.ReduceOp op = ProcessGroup.ReduceOp.valueOf(a.get("op", "avg").toUpperCase(Locale.ROOT));
        Rendezvous r = Rendezvous.fromEnvironment().orElseThrow(() -> new IllegalStateException("no WORLD_SIZE: start this with bench/data-parallel.sh"));
        Device device = Device.parse(a.get("device", "cpu"));
        if (device.isCuda()) device = Device.cuda(r.localRank());
        try (ProcessGroup pg = ProcessGroup.create(ProcessGroup.Backend.forDevice(device), r, Duration.ofMinutes(10));
             TensorScope s = TensorScope.open()) {
            Tensor t = Tensor.full(pg.rank() + 1, new long[] {floats}, DType.FLOAT32, device);
            for (int i = 0; i < warmup; i++) pg.allReduce(t, op);
            double[] seconds = new double[iters];
            for (int i = 0; i < iters; i++) {
                pg.barrier();
                long start = System.nanoTime();
                pg.allReduce(t, op);
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
            Arrays.sort(seconds);
            double median = seconds[iters / 2];
            double bytes = floats * 4.0;
            int n = pg.size();
            if (pg.rank() == 0) {
                System.out.printf(Locale.ROOT, "{\"bench\": \"all-reduce\", \"backend\": \"%s\", \"device\": \"%s\", \"processes\": %d, \"floats\": %d, "
                                + "\"op\": \"%s\", \"median_s\": %.3f, \"algbw_GBps\": %.3f, \"busbw_GBps\": %.3f, \"times_s\": %s}%n",
                        pg.backend(), device, n, floats, op, median, bytes / median / 1e9, 2.0 * (n - 1) / n * bytes / median / 1e9,
                        Arrays.toString(seconds));
            }
        }
    }
}
