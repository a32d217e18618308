package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A seeded random-number generator for one device; its state can be saved and restored.
 *
 * <p>Thread safety as for {@link Tensor}: every native call pins the handle for its duration, and
 * {@link #close()} (idempotent, never waiting) frees it when the last call in progress returns; a
 * call that starts after close() throws {@code IllegalStateException("generator used after close()")}.
 */
public final class Generator implements AutoCloseable {
    private static final VarHandle STATE;
    private static final int CLOSED = Integer.MIN_VALUE;
    /** Generators whose native handle is not yet freed (for tests). */
    static final AtomicLong LIVE = new AtomicLong();

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Generator.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final MemorySegment handle;
    /** CLOSED bit | the number of native calls using the handle now; the last one out frees it. */
    private volatile int state;
    private final Device device;

    private Generator(MemorySegment handle, Device device) {
        this.handle = handle;
        this.device = device;
        LIVE.incrementAndGet();
    }

    public static Generator create(long seed, Device device) {
        return new Generator(LibTorch.generatorNew(seed, device.type().code, device.index()), device);
    }

    public static Generator cpu(long seed) {
        return create(seed, Device.CPU);
    }

    /** Runs one native call with g's handle pinned (null for no generator: the device's default). */
    static <R> R with(Generator g, Function<MemorySegment, R> call) {
        if (g == null) return call.apply(null);
        MemorySegment h = g.acquire();
        try {
            return call.apply(h);
        } finally {
            g.release();
        }
    }

    private MemorySegment acquire() {
        int s = state;
        while (true) {
            if (s < 0) throw new IllegalStateException("generator used after close()");
            int witness = (int) STATE.compareAndExchange(this, s, s + 1);
            if (witness == s) return handle;
            s = witness;
        }
    }

    private void release() {
        if ((int) STATE.getAndAdd(this, -1) == CLOSED + 1) free(); // closed meanwhile, and we were the last user
    }

    private void free() {
        LibTorch.generatorFree(handle);
        LIVE.decrementAndGet();
    }

    public boolean isClosed() {
        return state < 0;
    }

    public Device device() {
        return device;
    }

    public void seed(long seed) {
        with(this, h -> {
            LibTorch.generatorSetSeed(h, seed);
            return null;
        });
    }

    /** The full state as a uint8 tensor (to checkpoint). */
    public Tensor state() {
        return Tensor.wrap(with(this, h -> LibTorch.generatorGetState(h, device.type().code, device.index())));
    }

    public void setState(Tensor state) {
        Tensor.call(Tensor.Use.DIRECT, state, s -> with(this, h -> LibTorch.generatorSetState(h, device.type().code, device.index(), s)));
    }

    /** The state of the device's default generator (used when no generator is passed). */
    public static Tensor defaultState(Device device) {
        return Tensor.wrap(LibTorch.generatorGetState(null, device.type().code, device.index()));
    }

    public static void setDefaultState(Device device, Tensor state) {
        Tensor.call(Tensor.Use.DIRECT, state, s -> LibTorch.generatorSetState(null, device.type().code, device.index(), s));
    }

    /** Frees the native handle now, or when the calls using it on other threads return. Idempotent. */
    @Override
    public void close() {
        if ((int) STATE.getAndBitwiseOr(this, CLOSED) == 0) free();
    }
}
