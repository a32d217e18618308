package dev.dit4j.examples;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * Mini-batch indices over a dataset held in memory: a fresh seeded permutation each epoch,
 * batches in order, the incomplete tail dropped. Its state (epoch, position) goes into checkpoints.
 */
final class EpochSampler implements AutoCloseable {
    private final long size;
    private final int batch;
    private final long seed;
    private final Generator gen;
    private Tensor permutation;
    private long epoch;
    private long position;

    EpochSampler(long size, int batch, long seed) {
        if (batch <= 0 || batch > size) throw new IllegalArgumentException("batch " + batch + " does not fit " + size + " examples");
        this.size = size;
        this.batch = batch;
        this.seed = seed;
        this.gen = Generator.cpu(seed);
        this.permutation = TensorScope.release(Tensor.randperm(size, Device.CPU, gen));
    }

    /** Indices of the next batch (int64, CPU), owned by the caller's scope. */
    Tensor next() {
        if (position + batch > size) {
            permutation.close();
            permutation = TensorScope.release(Tensor.randperm(size, Device.CPU, gen));
            epoch++;
            position = 0;
        }
        Tensor idx = permutation.narrow(0, position, batch);
        position += batch;
        return idx;
    }

    String state() {
        return epoch + ":" + position;
    }

    /** Returns to a {@link #state()}: replays the seeded permutations up to that epoch. */
    void restore(String state) {
        String[] parts = state == null ? new String[0] : state.split(":");
        if (parts.length != 2) throw new IllegalArgumentException("not a sampler state: '" + state + "'");
        gen.seed(seed);
        permutation.close();
        permutation = TensorScope.release(Tensor.randperm(size, Device.CPU, gen));
        for (long e = 0; e < Long.parseLong(parts[0]); e++) {
            permutation.close();
            permutation = TensorScope.release(Tensor.randperm(size, Device.CPU, gen));
        }
        epoch = Long.parseLong(parts[0]);
        position = Long.parseLong(parts[1]);
    }

    @Override
    public void close() {
        permutation.close();
        gen.close();
    }
}
