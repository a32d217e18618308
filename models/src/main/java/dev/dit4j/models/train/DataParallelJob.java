package dev.dit4j.models.train;

import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.dist.ProcessGroup;
import dev.dit4j.nn.dist.Rendezvous;

/**
 * A training process's place in a data-parallel job: rank and world from the environment that
 * dit4j's launcher, torchrun or SLURM sets ({@link Rendezvous#fromEnvironment()}), the process
 * group, this rank's device (cuda:LOCAL_RANK when CUDA is asked for) and share of the batch.
 * Without that environment it is one process on the requested device, and every method behaves
 * as for a world of one.
 *
 * <pre>{@code
 * try (DataParallelJob job = DataParallelJob.join(Device.cuda(0));
 *      DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(net, ema, objective, options, job.group());
 *      BatchLoader loader = job.shard(BatchLoader.builder(data, job.perRankBatch(256))).build()) {
 *     TrainingLoop.builder().steps(10_000).dataParallel(job).build().run(trainer, loader, step);
 * }
 * }</pre>
 */
public final class DataParallelJob implements AutoCloseable {
    private final ProcessGroup group;
    private final Device device;

    private DataParallelJob(ProcessGroup group, Device device) {
        this.group = group;
        this.device = device;
    }

    /** Joins the job described by the environment (NCCL on CUDA where available, else Gloo), or runs alone on {@code requested}. */
    public static DataParallelJob join(Device requested) {
        return join(requested, ProcessGroup.timeoutFromEnvironment(System.getenv()));
    }

    /** As {@link #join(Device)}, every wait for the other ranks (joining, each collective) bounded by {@code timeout}. */
    public static DataParallelJob join(Device requested, java.time.Duration timeout) {
        Rendezvous r = Rendezvous.fromEnvironment().orElse(null);
        if (r == null) return alone(requested);
        Device device = requested.isCuda() ? Device.cuda(r.localRank()) : requested;
        return new DataParallelJob(ProcessGroup.create(ProcessGroup.Backend.forDevice(device), r, timeout), device);
    }

    /** One process on {@code device}, whatever the environment says. */
    public static DataParallelJob alone(Device device) {
        return new DataParallelJob(null, device);
    }

    /** The trainer's process group; null for one process. */
    public ProcessGroup group() {
        return group;
    }

    /** This rank's device. */
    public Device device() {
        return device;
    }

    public int rank() {
        return group == null ? 0 : group.rank();
    }

    public int worldSize() {
        return group == null ? 1 : group.size();
    }

    /** Rank 0 (or the only process): the one that reports and writes outputs. */
    public boolean isMain() {
        return rank() == 0;
    }

    /** Whether more than one process trains. */
    public boolean isDistributed() {
        return group != null;
    }

    /** This rank's share of a global batch, which must split evenly. */
    public int perRankBatch(int globalBatch) {
        if (globalBatch % worldSize() != 0) {
            throw new IllegalArgumentException("a global batch of " + globalBatch + " does not split over " + worldSize() + " processes");
        }
        return globalBatch / worldSize();
    }

    /** {@code loader} sharded for this rank when data-parallel, else unchanged. */
    public BatchLoader.Builder shard(BatchLoader.Builder loader) {
        return group == null ? loader : loader.shard(rank(), worldSize());
    }

    /**
     * Rank 0's decision, on every rank: what a rank decides alone (a clock, a file) must end all
     * ranks at the same step. Collective: every rank calls it.
     */
    public boolean agree(boolean decision) {
        if (group == null) return decision;
        try (Tensor flag = Tensor.full(decision ? 1 : 0, new long[] {1}, DType.FLOAT32, group.backend() == ProcessGroup.Backend.NCCL ? device : Device.CPU)) {
            group.broadcast(flag, 0);
            return flag.item() != 0;
        }
    }

    /**
     * Two decisions agreed in one collective: {@code mainDecision} as rank 0 makes it (a clock),
     * {@code anyDecision} true on every rank once any rank makes it (a signal one rank received).
     * Collective: every rank calls it.
     */
    public boolean[] agree(boolean mainDecision, boolean anyDecision) {
        if (group == null) return new boolean[] {mainDecision, anyDecision};
        Device where = group.backend() == ProcessGroup.Backend.NCCL ? device : Device.CPU;
        try (dev.dit4j.nn.TensorScope s = dev.dit4j.nn.TensorScope.open()) {
            Tensor flags = Tensor.of(new float[] {isMain() && mainDecision ? 1 : 0, anyDecision ? 1 : 0}, 2).to(where);
            group.allReduce(flags, ProcessGroup.ReduceOp.MAX);
            float[] f = flags.toFloatArray();
            return new boolean[] {f[0] != 0, f[1] != 0};
        }
    }

    /** "data-parallel: 2 processes, GLOO on cpu", or "one process on cpu". */
    public String describe() {
        return group == null ? "one process on " + device
                : String.format("data-parallel: %d processes, %s on %s", group.size(), group.backend(), device);
    }

    @Override
    public void close() {
        if (group != null) group.close();
    }
}
