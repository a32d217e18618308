package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;

/**
 * What ran while it was open, as libtorch's own profiler (Kineto, the engine of torch.profiler)
 * saw it: device kernels, device copies and fills, their summed device time, host events, and
 * the kernels that took the most device time.
 * Counts the same way as PyTorch's profiler, so a benchmark can compare kernels per step with
 * PyTorch code. One at a time per process.
 *
 * <pre>{@code
 * try (DeviceProfile p = DeviceProfile.start(device)) {
 *     trainer.trainStep(x, y).close();
 *     Torch.synchronize(device);
 *     DeviceProfile.Summary s = p.stop();
 * }
 * }</pre>
 */
public final class DeviceProfile implements AutoCloseable {
    /**
     * The counts of one profiled region; {@code hostEvents}: every host event (operators, autograd
     * nodes, annotations); {@code atenOps}: those that are ATen operators ("aten::*", an operator
     * that calls others counted with them, as torch.profiler lists its events);
     * {@code topLevelAtenOps}: the ATen operators no other one called (those that the code, its
     * autograd nodes and optimiser ran themselves); {@code topKernels}: the {@value #TOP} device kernels by summed time, one
     * "milliseconds TAB calls TAB name" line each (empty without device work).
     */
    public record Summary(long kernels, long copies, long deviceNanos, long hostEvents, long atenOps, long topLevelAtenOps,
                          String topKernels) {}

    static final int TOP = 20;

    private boolean running = true;

    private DeviceProfile() {}

    /** Starts profiling host events, and {@code device}'s activity when it is a CUDA device. */
    public static DeviceProfile start(Device device) {
        LibTorch.profilerStart(device.isCuda() ? 1 : 0);
        return new DeviceProfile();
    }

    /** Stops and returns what ran since the start (synchronise the device first to see all of it). */
    public Summary stop() {
        if (!running) throw new IllegalStateException("the profile is already stopped");
        running = false;
        LibTorch.ProfilerCounts c = LibTorch.profilerStop(TOP);
        return new Summary(c.kernels(), c.copies(), c.deviceNanos(), c.hostEvents(), c.atenOps(), c.topLevelAtenOps(), c.topKernels());
    }

    @Override
    public void close() {
        if (running) stop();
    }
}
