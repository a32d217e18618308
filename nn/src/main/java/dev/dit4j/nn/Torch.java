package dev.dit4j.nn;

import dev.dit4j.bindings.GlibcMalloc;
import dev.dit4j.bindings.LibTorch;
import dev.dit4j.bindings.NativeLoader;
import java.util.ArrayList;
import java.util.List;

/** Process-wide libtorch state: versions, seeds, threads, devices, memory. */
public final class Torch {
    private Torch() {}

    /** What was loaded and from where. */
    public static NativeLoader.Info nativeInfo() {
        return NativeLoader.load();
    }

    public static String version() {
        return LibTorch.torchVersion();
    }

    /** Seeds the default generators of the CPU and every CUDA device. */
    public static void manualSeed(long seed) {
        LibTorch.manualSeed(seed);
    }

    public static void setNumThreads(int threads) {
        LibTorch.setNumThreads(threads);
    }

    public static int numThreads() {
        return LibTorch.getNumThreads();
    }

    /** Native tensor handles alive in this process (all threads). */
    public static long liveTensors() {
        return LibTorch.liveTensors();
    }

    public static boolean cudaAvailable() {
        return LibTorch.cudaIsAvailable() == 1;
    }

    public static int cudaDeviceCount() {
        return LibTorch.cudaDeviceCount();
    }

    public static List<String> cudaDeviceNames() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < cudaDeviceCount(); i++) names.add(LibTorch.cudaDeviceName(i));
        return names;
    }

    public static boolean cudnnAvailable() {
        return LibTorch.cudnnIsAvailable() == 1;
    }

    /** Waits for all queued work on the device; a no-op on the CPU. */
    public static void synchronize(Device device) {
        if (device.isCuda()) LibTorch.cudaSynchronize(device.index());
    }

    /** CUDA caching-allocator figures in bytes. */
    public record MemoryStats(long allocated, long peakAllocated, long reserved, long peakReserved) {}

    public static MemoryStats memoryStats(Device device) {
        if (!device.isCuda()) throw new IllegalArgumentException("memory stats are kept for CUDA devices, not " + device);
        long[] s = LibTorch.cudaMemoryStats(device.index());
        return new MemoryStats(s[0], s[1], s[2], s[3]);
    }

    public static void resetPeakMemoryStats(Device device) {
        if (!device.isCuda()) throw new IllegalArgumentException("memory stats are kept for CUDA devices, not " + device);
        LibTorch.cudaResetPeakMemoryStats(device.index());
    }

    /**
     * Makes glibc's malloc keep freed CPU blocks of up to {@code bytes} (capped at 2 GiB - 1) in its
     * heaps for the next tensor instead of returning them to the kernel. By default blocks of 32
     * MiB and more (a [1, 128, 256, 256] float activation) are mapped for each tensor and unmapped
     * when it is freed, so every such tensor first page-faults in fresh zeroed pages: for
     * convolutional networks at 256 px and above that costs as much CPU time as the arithmetic.
     * The price is resident memory: up to {@code bytes} of freed memory stays with the process.
     * Sets glibc's mmap and trim thresholds to {@code bytes} and its top pad to 64 MiB. Threads
     * other than the process's first (a JVM's main thread among them) allocate from malloc heaps
     * of at most 64 MiB, so there larger blocks are still mapped per tensor, and how much is
     * reused depends on the allocation pattern (bench/RESULTS.md has the autoencoder's page
     * faults with and without). Process-wide and lasting; returns false where the C library has
     * no {@code mallopt} (not glibc) or refused the values.
     */
    public static boolean retainFreedCpuMemory(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
        int value = (int) Math.min(bytes, Integer.MAX_VALUE);
        return GlibcMalloc.mallopt(GlibcMalloc.M_MMAP_THRESHOLD, value) & GlibcMalloc.mallopt(GlibcMalloc.M_TRIM_THRESHOLD, value)
                & GlibcMalloc.mallopt(GlibcMalloc.M_TOP_PAD, (int) Math.min(value, HEAP_MAX));
    }

    /** glibc's largest per-thread malloc heap (64-bit). */
    private static final int HEAP_MAX = 64 << 20;

    /**
     * Runs {@code a + b} (result freed) {@code iters} times in a C++ loop through the shim's own
     * entry points and returns the nanoseconds taken: the baseline for Java's per-op overhead.
     */
    public static long nativeAddLoopNanos(Tensor a, Tensor b, long iters) {
        return Tensor.call(Tensor.Use.DIRECT, a, b, (ha, hb) -> LibTorch.benchBinaryLoop(Ops.ADD, ha, hb, iters));
    }
}
