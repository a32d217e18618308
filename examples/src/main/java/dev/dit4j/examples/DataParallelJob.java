package dev.dit4j.examples;

import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.dist.ProcessGroup;
import dev.dit4j.nn.dist.Rendezvous;
import java.time.Duration;

/**
 * A training command's place in a data-parallel job: rank and world from the launcher's (or
 * torchrun's, or SLURM's) environment, the process group, this rank's device (cuda:LOCAL_RANK
 * when --device asks for CUDA) and share of the batch. Without that environment: one process.
 */
final class DataParallelJob implements AutoCloseable {
    private final ProcessGroup group;
    private final Device device;

    private DataParallelJob(ProcessGroup group, Device device) {
        this.group = group;
        this.device = device;
    }

    /** Joins the job described by the environment (NCCL on CUDA where available, else Gloo), or runs alone. */
    static DataParallelJob join(Device requested) {
        Rendezvous r = Rendezvous.fromEnvironment().orElse(null);
        if (r == null) return new DataParallelJob(null, requested);
        Device device = requested.isCuda() ? Device.cuda(r.localRank()) : requested;
        ProcessGroup group = ProcessGroup.create(ProcessGroup.Backend.forDevice(device), r, ProcessGroup.DEFAULT_TIMEOUT);
        if (group.rank() == 0) System.out.printf("data-parallel: %d processes, %s on %s%n", group.size(), group.backend(), device);
        return new DataParallelJob(group, device);
    }

    /** The trainer's process group; null for one process. */
    ProcessGroup group() {
        return group;
    }

    Device device() {
        return device;
    }

    int rank() {
        return group == null ? 0 : group.rank();
    }

    int worldSize() {
        return group == null ? 1 : group.size();
    }

    /** Rank 0 (or the only process): the one that reports and writes outputs. */
    boolean isMain() {
        return rank() == 0;
    }

    /** This rank's share of a global batch, which must split evenly. */
    int perRankBatch(int globalBatch) {
        if (globalBatch % worldSize() != 0) {
            throw new IllegalArgumentException("--batch " + globalBatch + " (the global batch) does not split over " + worldSize() + " processes");
        }
        return globalBatch / worldSize();
    }

    /** Sharded for this rank when data-parallel. */
    BatchLoader.Builder shard(BatchLoader.Builder loader) {
        return group == null ? loader : loader.shard(rank(), worldSize());
    }

    /** Rank 0's decision, on every rank (a time budget must end all ranks at the same step). */
    boolean agree(boolean decision) {
        if (group == null) return decision;
        try (Tensor flag = Tensor.full(decision ? 1 : 0, new long[] {1}, DType.FLOAT32, group.backend() == ProcessGroup.Backend.NCCL ? device : Device.CPU)) {
            group.broadcast(flag, 0);
            return flag.item() != 0;
        }
    }

    @Override
    public void close() {
        if (group != null) group.close();
    }
}
