package dev.dit4j.nn.dist;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Data-parallel training over a {@link ProcessGroup}, as PyTorch's DistributedDataParallel: the
 * replicas start from rank 0's parameters and buffers ({@link #broadcastFromRankZero}), and after
 * each backward pass their gradients are averaged ({@link #averageGradients}) so that every rank
 * takes the same optimizer step. Gradients travel in buckets of about {@code bucketBytes} (DDP's
 * 25 MB), in reverse registration order (the order backward produces them): each bucket is
 * flattened into one tensor and all-reduced asynchronously while the next is flattened, and the
 * averages are copied back as the buckets complete.
 */
public final class DataParallel {
    /** PyTorch DDP's default bucket size. */
    public static final long DEFAULT_BUCKET_BYTES = 25L << 20;

    private final ProcessGroup group;
    private final List<List<Tensor>> buckets = new ArrayList<>();

    /** Averages the gradients of {@code params} (all ranks pass the same model's trainable parameters). */
    public DataParallel(ProcessGroup group, List<Tensor> params, long bucketBytes) {
        if (bucketBytes < 1) throw new IllegalArgumentException("bucket size must be >= 1 byte, got " + bucketBytes);
        this.group = group;
        List<Tensor> bucket = new ArrayList<>();
        long bytes = 0;
        for (int i = params.size() - 1; i >= 0; i--) {
            Tensor p = params.get(i);
            boolean sameKind = bucket.isEmpty() || (p.dtype() == bucket.get(0).dtype() && p.device().equals(bucket.get(0).device()));
            if (!bucket.isEmpty() && (!sameKind || bytes >= bucketBytes)) {
                buckets.add(bucket);
                bucket = new ArrayList<>();
                bytes = 0;
            }
            bucket.add(p);
            bytes += p.numel() * p.dtype().byteSize();
        }
        if (!bucket.isEmpty()) buckets.add(bucket);
    }

    public DataParallel(ProcessGroup group, List<Tensor> params) {
        this(group, params, DEFAULT_BUCKET_BYTES);
    }

    public ProcessGroup group() {
        return group;
    }

    public int bucketCount() {
        return buckets.size();
    }

    /** Makes every rank's parameters and buffers equal to rank 0's (at the start of training). */
    public static void broadcastFromRankZero(ProcessGroup group, Module model) {
        try (TensorScope s = TensorScope.open()) {
            List<Work> pending = new ArrayList<>();
            try {
                // detached aliases: c10d writes the storage, autograd must not see an in-place op on a leaf
                for (Tensor t : model.stateDict().values()) pending.add(group.broadcastAsync(t.detach(), 0));
                for (Work w : pending) w.await();
            } finally {
                pending.forEach(Work::close);
            }
        }
    }

    /**
     * Replaces each parameter's gradient by its average over the ranks. A parameter without a
     * gradient on this rank (unused in its forward) counts as zero, so every rank sends the same buckets.
     */
    public void averageGradients() {
        try (TensorScope s = TensorScope.open()) {
            List<Tensor> flats = new ArrayList<>(buckets.size());
            List<Work> pending = new ArrayList<>(buckets.size());
            try {
                for (List<Tensor> bucket : buckets) {
                    List<Tensor> pieces = new ArrayList<>(bucket.size());
                    for (Tensor p : bucket) {
                        Tensor g = p.grad();
                        pieces.add(g != null ? g.reshape(-1) : Tensor.zeros(new long[] {p.numel()}, p.dtype(), p.device()));
                    }
                    Tensor flat = Tensor.cat(pieces, 0);
                    flats.add(flat);
                    pending.add(group.allReduceAsync(flat, ProcessGroup.ReduceOp.AVG));
                }
                for (int b = 0; b < buckets.size(); b++) {
                    pending.get(b).await();
                    unflatten(buckets.get(b), flats.get(b));
                }
            } finally {
                pending.forEach(Work::close);
            }
        }
    }

    private static void unflatten(List<Tensor> bucket, Tensor flat) {
        long offset = 0;
        for (Tensor p : bucket) {
            Tensor avg = flat.narrow(0, offset, p.numel()).view(p.shape());
            Tensor g = p.grad();
            if (g != null) g.copy_(avg);
            else p.setGrad(avg.clone());
            offset += p.numel();
        }
    }
}
