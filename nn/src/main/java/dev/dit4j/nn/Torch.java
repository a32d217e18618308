package dev.dit4j.nn;

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

    /**
     * Whether the native library was compiled with its fused CUDA kernels ({@link Functional#lnModulate},
     * {@link Functional#gatedResidual}): built against a CUDA libtorch with the CUDA toolkit. Without
     * them those ops run as their composite of ATen ops on every device.
     */
    public static boolean fusedKernelsBuilt() {
        return LibTorch.fusedKernelsBuilt() == 1;
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
     * Keeps freed CPU tensor memory, blocks of 1 MiB and more up to {@code bytes} in all, for the
     * next tensor it fits, instead of giving it back to malloc; {@code 0} frees what is kept and
     * keeps nothing from then on. malloc maps every block of 32 MiB or more (a [1, 128, 256, 256]
     * float activation) for each tensor and unmaps it when freed, so without a cache every such
     * tensor first page-faults in fresh zeroed pages: for convolutional networks at 256 px and
     * above that costs as much CPU time as the arithmetic. The price is resident memory: up to
     * {@code bytes} of freed memory stays with the process. The shim's caching allocator serves
     * libtorch's CPU tensors from the first call with {@code bytes > 0} on; process-wide.
     */
    public static void cacheCpuMemory(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("CPU cache size must be >= 0 bytes, got " + bytes);
        LibTorch.cpuCacheSetLimit(bytes);
    }

    /**
     * The CPU cache ({@link #cacheCpuMemory}): bytes and blocks kept now, large requests served
     * from kept blocks ({@code hits}) and allocated fresh ({@code misses}), the limit.
     */
    public record CpuCacheStats(long keptBytes, long keptBlocks, long hits, long misses, long limit) {}

    public static CpuCacheStats cpuCacheStats() {
        long[] s = LibTorch.cpuCacheStats();
        return new CpuCacheStats(s[0], s[1], s[2], s[3], s[4]);
    }

    /**
     * Runs {@code a + b} (result freed) {@code iters} times in a C++ loop through the shim's own
     * entry points and returns the nanoseconds taken: the baseline for Java's per-op overhead.
     */
    public static long nativeAddLoopNanos(Tensor a, Tensor b, long iters) {
        return Tensor.call(Tensor.Use.DIRECT, a, b, (ha, hb) -> LibTorch.benchBinaryLoop(Ops.ADD, ha, hb, iters));
    }
}
