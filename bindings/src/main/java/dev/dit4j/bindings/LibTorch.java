package dev.dit4j.bindings;

import dev.dit4j.bindings.shim.Dit4jNative;
import dev.dit4j.bindings.shim.dt_from_blob$on_free;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The typed facade over the shim: the only way the rest of dit4j reaches libtorch. Simple calls
 * are generated ({@link CheckedCalls}); calls with output parameters or callbacks are here.
 * Handles are opaque {@link MemorySegment}s owned by the caller (free with {@link #tensorFree}).
 */
public final class LibTorch extends CheckedCalls {
    private LibTorch() {}

    /** Result of an attention call: the output handle and the kernel that ran (DT_SDPA_*). */
    public record SdpaResult(MemorySegment output, int backendUsed) {}

    public static long[] tensorSizes(MemorySegment t) {
        return shapeOf(t, false);
    }

    public static long[] tensorStrides(MemorySegment t) {
        return shapeOf(t, true);
    }

    private static long[] shapeOf(MemorySegment t, boolean strides) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(8L * 64);
            int dim = checkStatus(strides ? Dit4jNative.dt_tensor_strides(orNull(t), out, 64)
                    : Dit4jNative.dt_tensor_sizes(orNull(t), out, 64));
            if (dim > 64) throw new TorchException(TorchException.Kind.ARGUMENT, "tensor has " + dim + " dims (max 64)");
            return out.asSlice(0, 8L * dim).toArray(ValueLayout.JAVA_LONG);
        }
    }

    public static double itemDouble(MemorySegment t) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(8);
            checkStatus(Dit4jNative.dt_item_double(orNull(t), out));
            return out.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    public static long itemLong(MemorySegment t) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(8);
            checkStatus(Dit4jNative.dt_item_int64(orNull(t), out));
            return out.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Values and indices of the max (or min) along dim. */
    public static MemorySegment[] maxDim(MemorySegment t, long dim, boolean keepdim, boolean min) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment indices = scratch.bytes(8);
            MemorySegment values = min ? Dit4jNative.dt_min_dim(orNull(t), dim, keepdim ? 1 : 0, indices)
                    : Dit4jNative.dt_max_dim(orNull(t), dim, keepdim ? 1 : 0, indices);
            checkHandle(values);
            return new MemorySegment[] {values, indices.get(ValueLayout.ADDRESS, 0)};
        }
    }

    /** Values and indices of the k largest (or smallest) along dim, in order when {@code sorted}. */
    public static MemorySegment[] topk(MemorySegment t, long k, long dim, boolean largest, boolean sorted) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment indices = scratch.bytes(8);
            MemorySegment values = checkHandle(Dit4jNative.dt_topk(orNull(t), k, dim, largest ? 1 : 0, sorted ? 1 : 0, indices));
            return new MemorySegment[] {values, indices.get(ValueLayout.ADDRESS, 0)};
        }
    }

    public static MemorySegment[] chunk(MemorySegment t, long chunks, long dim) {
        return pieces(t, chunks, dim, false);
    }

    public static MemorySegment[] split(MemorySegment t, long splitSize, long dim) {
        return pieces(t, splitSize, dim, true);
    }

    private static MemorySegment[] pieces(MemorySegment t, long arg, long dim, boolean split) {
        int cap = 64;
        while (true) {
            try (Scratch scratch = Scratch.open()) {
                MemorySegment out = scratch.bytes(8L * cap);
                int n = checkStatus(split ? Dit4jNative.dt_split(orNull(t), arg, dim, out, cap)
                        : Dit4jNative.dt_chunk(orNull(t), arg, dim, out, cap));
                if (n <= cap) {
                    MemorySegment[] result = new MemorySegment[n];
                    for (int i = 0; i < n; i++) result[i] = out.getAtIndex(ValueLayout.ADDRESS, i);
                    return result;
                }
                cap = n;
            }
        }
    }

    /** Scaled dot-product attention with an explicit backend (DT_SDPA_*; -1 lets libtorch choose). */
    public static SdpaResult sdpa(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment mask,
                                  double dropout, boolean causal, double scale, int backend) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment used = scratch.bytes(4);
            MemorySegment out = checkHandle(Dit4jNative.dt_sdpa(orNull(q), orNull(k), orNull(v), orNull(mask),
                    dropout, causal ? 1 : 0, scale, backend, used));
            return new SdpaResult(out, used.get(ValueLayout.JAVA_INT, 0));
        }
    }

    /** torch.autograd.grad: one handle per input, null where the input does not affect the outputs. */
    public static MemorySegment[] autogradGrad(MemorySegment[] outputs, MemorySegment[] inputs, MemorySegment[] gradOutputs,
                                               boolean retainGraph, boolean createGraph) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(8L * inputs.length);
            checkStatus(Dit4jNative.dt_autograd_grad(scratch.pointers(outputs), outputs.length, scratch.pointers(inputs),
                    inputs.length, scratch.pointers(gradOutputs), retainGraph ? 1 : 0, createGraph ? 1 : 0, out));
            MemorySegment[] grads = new MemorySegment[inputs.length];
            for (int i = 0; i < grads.length; i++) {
                MemorySegment g = out.getAtIndex(ValueLayout.ADDRESS, i);
                grads[i] = g.address() == 0 ? null : g;
            }
            return grads;
        }
    }

    /** A c10d process group (DT_DIST_*); blocks until every rank has joined or the timeout passes. */
    public static MemorySegment processGroupNew(int backend, String masterAddr, int masterPort, int rank, int worldSize,
                                                long timeoutMs, int deviceIndex) {
        try (Arena arena = Arena.ofConfined()) {
            return checkHandle(Dit4jNative.dt_process_group_new(backend, arena.allocateFrom(masterAddr), masterPort, rank,
                    worldSize, timeoutMs, deviceIndex));
        }
    }

    public static String cudaDeviceName(int device) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment buf = scratch.bytes(256);
            checkStatus(Dit4jNative.dt_cuda_device_name(device, buf, 256));
            return buf.getString(0);
        }
    }

    public static int[] cudaDeviceCapability(int device) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(8);
            checkStatus(Dit4jNative.dt_cuda_device_capability(device, out));
            return out.asSlice(0, 8).toArray(ValueLayout.JAVA_INT);
        }
    }

    /** Allocated now, peak allocated, reserved now, peak reserved (bytes). */
    public static long[] cudaMemoryStats(int device) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(32);
            checkStatus(Dit4jNative.dt_cuda_memory_stats(device, out));
            return out.asSlice(0, 32).toArray(ValueLayout.JAVA_LONG);
        }
    }

    /** The CPU cache's figures; see dt_cpu_cache_stats. */
    public static long[] cpuCacheStats() {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(40);
            checkStatus(Dit4jNative.dt_cpu_cache_stats(out));
            return out.asSlice(0, 40).toArray(ValueLayout.JAVA_LONG);
        }
    }

    /** What libtorch's profiler saw when it stopped; see dt_profiler_stop. */
    public record ProfilerCounts(long kernels, long copies, long deviceNanos, long hostEvents, long atenOps, long topLevelAtenOps,
                                 String topKernels) {}

    /** Stops libtorch's profiler; {@code top} device kernels by time are listed (0: none). */
    public static ProfilerCounts profilerStop(int top) {
        try (Scratch scratch = Scratch.open()) {
            MemorySegment out = scratch.bytes(48);
            int cap = 1 << 16;
            MemorySegment table = top > 0 ? scratch.bytes(cap) : MemorySegment.NULL;
            checkStatus(Dit4jNative.dt_profiler_stop(out, table, cap, top));
            long[] c = out.asSlice(0, 48).toArray(ValueLayout.JAVA_LONG);
            return new ProfilerCounts(c[0], c[1], c[2], c[3], c[4], c[5], top > 0 ? table.getString(0) : "");
        }
    }

    // ---- zero-copy tensors over caller memory ----------------------------------------------

    private static final AtomicLong NEXT_FREE_ID = new AtomicLong(1);
    private static final Map<Long, Runnable> FREE_ACTIONS = new ConcurrentHashMap<>();
    private static final MemorySegment ON_FREE = dt_from_blob$on_free.allocate(LibTorch::runFreeAction, Arena.global());

    /**
     * A CPU tensor over {@code data} without a copy. {@code onFree} (may be null) runs once, on
     * whichever thread libtorch releases the storage, when the last tensor sharing it is freed.
     */
    public static MemorySegment fromBlob(MemorySegment data, long[] sizes, long[] strides, int dtype, Runnable onFree) {
        if (strides != null && strides.length != sizes.length) {
            throw new IllegalArgumentException("strides " + java.util.Arrays.toString(strides) + " do not match sizes "
                    + java.util.Arrays.toString(sizes));
        }
        long id = 0;
        if (onFree != null) {
            id = NEXT_FREE_ID.getAndIncrement();
            FREE_ACTIONS.put(id, onFree);
        }
        try (Scratch scratch = Scratch.open()) {
            MemorySegment h = Dit4jNative.dt_from_blob(data, scratch.longs(sizes), scratch.longs(strides), sizes.length,
                    dtype, onFree == null ? MemorySegment.NULL : ON_FREE, id);
            if (h.address() == 0) {
                FREE_ACTIONS.remove(id);
                throw lastError();
            }
            return h;
        }
    }

    /** Upcall from libtorch: must never throw (an exception escaping an upcall ends the JVM). */
    private static void runFreeAction(long id) {
        try {
            Runnable action = FREE_ACTIONS.remove(id);
            if (action != null) action.run();
        } catch (Throwable t) {
            System.err.println("dit4j: a tensor memory release action failed: " + t);
        }
    }

    /** How many release actions for zero-copy tensors are still pending (for leak checks). */
    public static int pendingFreeActions() {
        return FREE_ACTIONS.size();
    }
}
