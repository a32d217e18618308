package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.MemorySegment;

/** A seeded random-number generator for one device; its state can be saved and restored. */
public final class Generator implements AutoCloseable {
    private MemorySegment handle;
    private final Device device;

    private Generator(MemorySegment handle, Device device) {
        this.handle = handle;
        this.device = device;
    }

    public static Generator create(long seed, Device device) {
        return new Generator(LibTorch.generatorNew(seed, device.type().code, device.index()), device);
    }

    public static Generator cpu(long seed) {
        return create(seed, Device.CPU);
    }

    static MemorySegment handleOf(Generator g) {
        return g == null ? null : g.handle();
    }

    private MemorySegment handle() {
        if (handle == null) throw new IllegalStateException("generator used after close()");
        return handle;
    }

    public Device device() {
        return device;
    }

    public void seed(long seed) {
        LibTorch.generatorSetSeed(handle(), seed);
    }

    /** The full state as a uint8 tensor (to checkpoint). */
    public Tensor state() {
        return Tensor.wrap(LibTorch.generatorGetState(handle(), device.type().code, device.index()));
    }

    public void setState(Tensor state) {
        Tensor.call(Tensor.Use.DIRECT, state, s -> LibTorch.generatorSetState(handle(), device.type().code, device.index(), s));
    }

    /** The state of the device's default generator (used when no generator is passed). */
    public static Tensor defaultState(Device device) {
        return Tensor.wrap(LibTorch.generatorGetState(null, device.type().code, device.index()));
    }

    public static void setDefaultState(Device device, Tensor state) {
        Tensor.call(Tensor.Use.DIRECT, state, s -> LibTorch.generatorSetState(null, device.type().code, device.index(), s));
    }

    @Override
    public void close() {
        if (handle != null) {
            LibTorch.generatorFree(handle);
            handle = null;
        }
    }
}
