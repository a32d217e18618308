package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array in libtorch's memory (CPU or CUDA), with autograd.
 *
 * <p>A tensor owns one native handle and must be closed: directly, or by the {@link TensorScope}
 * that was innermost when it was created. Operations return new tensors; names ending in
 * {@code _} work in place, as in PyTorch. Elementwise ops broadcast.
 *
 * <p>Threads: a tensor may be used by several threads at once, and closed by any of them while
 * others use it. {@link #close()} never waits and never fails: every native call pins the handle
 * for its duration, and the handle is freed when the last call in progress returns. A call that
 * starts after {@code close()} throws {@code IllegalStateException("tensor used after close()")}.
 * (Operations are not atomic with respect to each other: in-place ops racing on one tensor still
 * race on its data, as in PyTorch; they just cannot crash.)
 *
 * <p>Borrowed memory ({@link #wrap(MemorySegment, DType, long...)}): a tensor over a caller's
 * segment, and every view of it, throws once the segment's arena is closed. Autograd never keeps
 * such memory: an op that records a graph node (grad mode on, an input requiring grad) gets a
 * copy of each borrowed input, so a later backward does not depend on the arena.
 */
public final class Tensor implements AutoCloseable {
    private static final VarHandle STATE;
    /** The sign bit of {@link #state}: close() was called. */
    private static final int CLOSED = Integer.MIN_VALUE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Tensor.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final MemorySegment handle;
    /** CLOSED bit | the number of native calls using the handle now; the last one out frees it. */
    private volatile int state;
    /** Non-null when the data is a caller's segment: the tensor is unusable once its arena closes, which no call lets happen while it runs. */
    private final MemorySegment borrowed;
    private Arena segmentViews;
    private final Leaks.Tracker leakTracker;
    TensorScope owner;

    Tensor(MemorySegment handle, MemorySegment borrowed) {
        this.handle = handle;
        this.borrowed = borrowed;
        this.leakTracker = Leaks.track(this);
        TensorScope scope = TensorScope.current();
        if (scope != null) scope.adopt(this);
    }

    /** A new tensor over a handle that the caller transfers to it. */
    static Tensor wrap(MemorySegment handle) {
        return new Tensor(handle, null);
    }

    /** A result that may share this tensor's memory: it inherits the borrowed-memory check. */
    private Tensor alias(MemorySegment h) {
        return new Tensor(h, borrowed);
    }

    public boolean isClosed() {
        return state < 0;
    }

    /** Frees the native handle now, or when the calls using it on other threads return. Idempotent. */
    @Override
    public void close() {
        TensorScope.closing(this);
        closeOwned();
    }

    void closeOwned() {
        if ((int) STATE.getAndBitwiseOr(this, CLOSED) == 0) free();
    }

    // ---- native calls -----------------------------------------------------------------------
    // The handle is private: every native call reaches it through call(...), which pins it for
    // the call's duration, so a concurrent close() can never free a handle that is in use.

    /** How a native call uses its tensor arguments. */
    enum Use {
        /** Metadata, views, autograd, optimiser kernels: the handles pass as they are. */
        DIRECT,
        /** Computes a new tensor: borrowed inputs are copied if autograd records the op. */
        COMPUTE,
        /** As COMPUTE, but the first tensor is written in place, so it is never replaced by a copy. */
        IN_PLACE
    }

    @FunctionalInterface
    interface Call1<R> {
        R apply(MemorySegment a);
    }

    @FunctionalInterface
    interface Call2<R> {
        R apply(MemorySegment a, MemorySegment b);
    }

    @FunctionalInterface
    interface CallN<R> {
        R apply(MemorySegment[] handles);
    }

    /** Pins the handle for one native call; fails if the tensor is closed or its memory freed. */
    private MemorySegment acquire() {
        int s = state;
        while (true) {
            if (s < 0) throw new IllegalStateException("tensor used after close()");
            int witness = (int) STATE.compareAndExchange(this, s, s + 1);
            if (witness == s) break;
            s = witness;
        }
        if (borrowed != null && !borrowed.scope().isAlive()) {
            release();
            throw BorrowedMemory.closed();
        }
        return handle;
    }

    private void release() {
        if ((int) STATE.getAndAdd(this, -1) == CLOSED + 1) free(); // closed meanwhile, and we were the last user
    }

    private void free() {
        if (segmentViews != null) segmentViews.close();
        leakTracker.closed();
        LibTorch.tensorFree(handle);
    }

    static <R> R call(Use use, Tensor a, Call1<R> f) {
        if (a.borrowed != null) return callN(use, new Tensor[] {a}, h -> f.apply(h[0]));
        MemorySegment h = a.acquire();
        try {
            return f.apply(h);
        } finally {
            a.release();
        }
    }

    static <R> R call(Use use, Tensor a, Tensor b, Call2<R> f) {
        if (a.borrowed != null || b.borrowed != null) {
            return callN(use, new Tensor[] {a, b}, h -> f.apply(h[0], h[1]));
        }
        MemorySegment ha = a.acquire();
        try {
            MemorySegment hb = b.acquire();
            try {
                return f.apply(ha, hb);
            } finally {
                b.release();
            }
        } finally {
            a.release();
        }
    }

    /** A native call on any number of tensors; null entries (optional arguments) pass as null. */
    static <R> R callN(Use use, Tensor[] ts, CallN<R> f) {
        List<MemorySegment> borrowed = null;
        for (Tensor t : ts) {
            if (t == null || t.borrowed == null) continue;
            if (borrowed == null) borrowed = new java.util.ArrayList<>(2);
            if (borrowed.stream().noneMatch(b -> b.scope().equals(t.borrowed.scope()))) borrowed.add(t.borrowed);
        }
        // borrowed memory: its arena is held open for the whole call (BorrowedMemory), so no close on another thread frees it mid-call
        return borrowed == null ? pinned(use, ts, f) : BorrowedMemory.holding(borrowed, () -> pinned(use, ts, f));
    }

    private static <R> R pinned(Use use, Tensor[] ts, CallN<R> f) {
        MemorySegment[] hs = new MemorySegment[ts.length];
        int pinned = 0;
        try {
            for (; pinned < ts.length; pinned++) {
                if (ts[pinned] != null) hs[pinned] = ts[pinned].acquire();
            }
            return use == Use.DIRECT ? f.apply(hs) : withBorrowedCopied(use, ts, hs, f);
        } finally {
            for (int i = 0; i < pinned; i++) {
                if (ts[i] != null) ts[i].release();
            }
        }
    }

    /** A native call on lists of tensors (none null): f gets one handle array per list (null for a null list). */
    static <R> R callLists(Use use, List<List<Tensor>> lists, java.util.function.Function<MemorySegment[][], R> f) {
        int n = 0;
        for (List<Tensor> l : lists) n += l == null ? 0 : l.size();
        Tensor[] flat = new Tensor[n];
        int k = 0;
        for (List<Tensor> l : lists) {
            for (int i = 0; l != null && i < l.size(); i++) {
                if (l.get(i) == null) throw new NullPointerException("tensor list holds null at index " + i);
                flat[k++] = l.get(i);
            }
        }
        return callN(use, flat, hs -> {
            MemorySegment[][] split = new MemorySegment[lists.size()][];
            int from = 0;
            for (int li = 0; li < split.length; li++) {
                List<Tensor> l = lists.get(li);
                if (l == null) continue;
                split[li] = Arrays.copyOfRange(hs, from, from + l.size());
                from += l.size();
            }
            return f.apply(split);
        });
    }

    /**
     * Autograd may save an op's inputs for backward; a saved borrowed input would point into an
     * arena the caller can close before backward runs. So when the op is recorded, borrowed
     * inputs are replaced by copies, which the graph then owns.
     */
    private static <R> R withBorrowedCopied(Use use, Tensor[] ts, MemorySegment[] hs, CallN<R> f) {
        int first = use == Use.IN_PLACE ? 1 : 0;
        boolean borrowedInput = false;
        for (int i = first; i < ts.length; i++) borrowedInput |= ts[i] != null && ts[i].borrowed != null;
        if (!borrowedInput || !recordsGraph(hs)) return f.apply(hs);
        MemorySegment[] args = hs.clone();
        try {
            for (int i = first; i < ts.length; i++) {
                if (ts[i] != null && ts[i].borrowed != null) args[i] = LibTorch.clone(hs[i]);
            }
            return f.apply(args);
        } finally {
            for (int i = first; i < ts.length; i++) {
                if (args[i] != hs[i]) LibTorch.tensorFree(args[i]);
            }
        }
    }

    private static boolean recordsGraph(MemorySegment[] hs) {
        if (LibTorch.isGradEnabled() != 1) return false;
        for (MemorySegment h : hs) {
            if (h != null && LibTorch.tensorRequiresGrad(h) == 1) return true;
        }
        return false;
    }

    /** A new tensor computed from this one. */
    private Tensor op(Call1<MemorySegment> f) {
        return wrap(call(Use.COMPUTE, this, f));
    }

    private Tensor op(Tensor other, Call2<MemorySegment> f) {
        return wrap(call(Use.COMPUTE, this, other, f));
    }

    /** A new tensor computed from any tensors (null entries allowed). */
    static Tensor compute(CallN<MemorySegment> f, Tensor... ts) {
        return wrap(callN(Use.COMPUTE, ts, f));
    }

    /** A result that may share this tensor's memory (views, no-op conversions). */
    private Tensor viewOf(Call1<MemorySegment> f) {
        return alias(call(Use.DIRECT, this, f));
    }

    private <R> R read(Call1<R> f) {
        return call(Use.DIRECT, this, f);
    }

    private Tensor inPlace(Call1<?> f) {
        call(Use.IN_PLACE, this, f);
        return this;
    }

    private Tensor inPlace(Tensor other, Call2<?> f) {
        call(Use.IN_PLACE, this, other, f);
        return this;
    }

    // ---- creation -------------------------------------------------------------------------

    public static Tensor empty(long[] shape, DType dtype, Device device) {
        return wrap(LibTorch.empty(shape, dtype.code(), device.type().code, device.index()));
    }

    public static Tensor zeros(long... shape) {
        return zeros(shape, DType.FLOAT32, Device.CPU);
    }

    public static Tensor zeros(long[] shape, DType dtype, Device device) {
        return wrap(LibTorch.zeros(shape, dtype.code(), device.type().code, device.index()));
    }

    public static Tensor ones(long... shape) {
        return ones(shape, DType.FLOAT32, Device.CPU);
    }

    public static Tensor ones(long[] shape, DType dtype, Device device) {
        return wrap(LibTorch.ones(shape, dtype.code(), device.type().code, device.index()));
    }

    public static Tensor full(double value, long[] shape, DType dtype, Device device) {
        return wrap(LibTorch.full(shape, value, dtype.code(), device.type().code, device.index()));
    }

    public static Tensor scalar(double value) {
        return full(value, new long[0], DType.FLOAT32, Device.CPU);
    }

    public static Tensor scalar(double value, DType dtype, Device device) {
        return full(value, new long[0], dtype, device);
    }

    public static Tensor arange(double end) {
        return arange(0, end, 1, DType.INT64, Device.CPU);
    }

    public static Tensor arange(double start, double end, double step, DType dtype, Device device) {
        return wrap(LibTorch.arange(start, end, step, dtype.code(), device.type().code, device.index()));
    }

    public static Tensor linspace(double start, double end, long steps, DType dtype, Device device) {
        return wrap(LibTorch.linspace(start, end, steps, dtype.code(), device.type().code, device.index()));
    }

    public static Tensor randn(long... shape) {
        return randn(shape, DType.FLOAT32, Device.CPU, null);
    }

    /** Standard normal samples; {@code gen} null uses the device's default generator. */
    public static Tensor randn(long[] shape, DType dtype, Device device, Generator gen) {
        return wrap(Generator.with(gen, g -> LibTorch.randn(shape, dtype.code(), device.type().code, device.index(), g)));
    }

    public static Tensor rand(long[] shape, DType dtype, Device device, Generator gen) {
        return wrap(Generator.with(gen, g -> LibTorch.rand(shape, dtype.code(), device.type().code, device.index(), g)));
    }

    /** Integers uniform in [low, high). */
    public static Tensor randint(long low, long high, long[] shape, Device device, Generator gen) {
        return wrap(Generator.with(gen, g -> LibTorch.randint(low, high, shape, DType.INT64.code(), device.type().code, device.index(), g)));
    }

    public static Tensor randperm(long n, Device device, Generator gen) {
        return wrap(Generator.with(gen, g -> LibTorch.randperm(n, device.type().code, device.index(), g)));
    }

    public static Tensor of(float[] data, long... shape) {
        return fromArray(MemorySegment.ofArray(data), data.length, DType.FLOAT32, shape);
    }

    public static Tensor of(double[] data, long... shape) {
        return fromArray(MemorySegment.ofArray(data), data.length, DType.FLOAT64, shape);
    }

    public static Tensor of(long[] data, long... shape) {
        return fromArray(MemorySegment.ofArray(data), data.length, DType.INT64, shape);
    }

    public static Tensor of(int[] data, long... shape) {
        return fromArray(MemorySegment.ofArray(data), data.length, DType.INT32, shape);
    }

    public static Tensor of(byte[] data, long... shape) {
        return fromArray(MemorySegment.ofArray(data), data.length, DType.UINT8, shape);
    }

    public static Tensor of(boolean[] data, long... shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) bytes[i] = (byte) (data[i] ? 1 : 0);
        return fromArray(MemorySegment.ofArray(bytes), bytes.length, DType.BOOL, shape);
    }

    /** A 1-d float32 tensor of the given values. */
    public static Tensor vector(float... data) {
        return of(data, data.length);
    }

    private static Tensor fromArray(MemorySegment data, long count, DType dtype, long[] shape) {
        long needed = Shapes.numel(shape);
        if (needed != count) {
            throw new IllegalArgumentException("data has " + count + " elements but shape " + Arrays.toString(shape)
                    + " needs " + needed);
        }
        Tensor t = empty(shape, dtype, Device.CPU);
        t.read(h -> {
            MemorySegment.copy(data, 0, dataOf(h), 0, count * dtype.byteSize());
            return null;
        });
        return t;
    }

    /**
     * A CPU tensor over {@code segment} without copying: writes on either side are seen by the other.
     * The tensor (and its views) become unusable once the segment's arena is closed.
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        checkSegment(segment, dtype, shape);
        return new Tensor(LibTorch.fromBlob(segment, shape, null, dtype.code(), null), segment);
    }

    /**
     * A CPU tensor over {@code segment} that takes ownership of {@code arena} (which must be a
     * shared arena): libtorch closes it when the last tensor sharing this memory is freed.
     */
    public static Tensor wrapOwned(MemorySegment segment, Arena arena, DType dtype, long... shape) {
        return wrap(segment, dtype, arena::close, shape);
    }

    /**
     * A CPU tensor over {@code segment}; {@code onRelease} runs once (on any thread, and must not
     * throw) when libtorch frees the last tensor sharing this memory. The caller keeps the
     * segment valid until then.
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, Runnable onRelease, long... shape) {
        checkSegment(segment, dtype, shape);
        return wrap(LibTorch.fromBlob(segment, shape, null, dtype.code(), onRelease));
    }

    private static void checkSegment(MemorySegment segment, DType dtype, long[] shape) {
        if (!segment.isNative()) throw new IllegalArgumentException("only native (off-heap) segments can be wrapped");
        long bytes = Shapes.numel(shape) * dtype.byteSize();
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("segment has " + segment.byteSize() + " bytes but shape " + Arrays.toString(shape)
                    + " of " + dtype + " needs " + bytes);
        }
        if (segment.address() % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("segment address is not aligned to " + dtype.byteSize() + " bytes for " + dtype);
        }
    }

    // ---- metadata -------------------------------------------------------------------------

    public long[] shape() {
        return read(LibTorch::tensorSizes);
    }

    public long size(int dim) {
        long[] s = shape();
        int d = dim < 0 ? dim + s.length : dim;
        if (d < 0 || d >= s.length) {
            throw new IndexOutOfBoundsException("dim " + dim + " is out of range for a tensor of shape " + Arrays.toString(s));
        }
        return s[d];
    }

    public long[] strides() {
        return read(LibTorch::tensorStrides);
    }

    public int dim() {
        return read(LibTorch::tensorDim);
    }

    public long numel() {
        return read(LibTorch::tensorNumel);
    }

    public DType dtype() {
        return DType.fromCode(read(LibTorch::tensorDtype));
    }

    public Device device() {
        return read(h -> Device.of(LibTorch.tensorDeviceType(h), LibTorch.tensorDeviceIndex(h)));
    }

    public boolean isContiguous() {
        return read(LibTorch::tensorIsContiguous) == 1;
    }

    /** True when both tensors are the same libtorch tensor (same storage, view and autograd identity). */
    public boolean isSameAs(Tensor other) {
        return call(Use.DIRECT, this, other, LibTorch::tensorSame) == 1;
    }

    @Override
    public String toString() {
        try {
            return "Tensor(" + Arrays.toString(shape()) + ", " + dtype() + ", " + device() + ")";
        } catch (IllegalStateException closedOrFreed) {
            return "Tensor(closed)";
        }
    }

    // ---- data access ----------------------------------------------------------------------

    /**
     * A view of this CPU tensor's elements as a MemorySegment, without copying. Requires a
     * contiguous tensor. The segment becomes inaccessible when this tensor is closed.
     */
    public MemorySegment asSegment() {
        return read(h -> {
            if (LibTorch.tensorDeviceType(h) != Device.Type.CPU.code) {
                throw new IllegalStateException("asSegment() needs a CPU tensor; this one is on " + device());
            }
            if (LibTorch.tensorIsContiguous(h) != 1) throw new IllegalStateException("asSegment() needs a contiguous tensor");
            if (LibTorch.tensorNumel(h) == 0) return MemorySegment.NULL; // no elements, no address
            long bytes = LibTorch.tensorNumel(h) * LibTorch.tensorElementSize(h);
            return LibTorch.tensorDataPtr(h).reinterpret(bytes, segmentViews(), null);
        });
    }

    /** The arena of asSegment()'s views, closed when the handle is freed (created once, even by racing threads). */
    private synchronized Arena segmentViews() {
        if (segmentViews == null) segmentViews = Arena.ofShared();
        return segmentViews;
    }

    /** The elements of a contiguous CPU tensor, for use while its handle is pinned. */
    private static MemorySegment dataOf(MemorySegment h) {
        if (LibTorch.tensorNumel(h) == 0) return MemorySegment.NULL;
        return LibTorch.tensorDataPtr(h).reinterpret(LibTorch.tensorNumel(h) * LibTorch.tensorElementSize(h));
    }

    /** Reads the elements (any device and layout) converted to dtype, in row-major order. */
    private <A> A readAs(DType dtype, java.util.function.Function<MemorySegment, A> reader) {
        try (Tensor converted = to(Device.CPU, dtype); Tensor host = converted.contiguous()) {
            return host.read(h -> reader.apply(dataOf(h)));
        }
    }

    public float[] toFloatArray() {
        return readAs(DType.FLOAT32, s -> s.toArray(ValueLayout.JAVA_FLOAT));
    }

    public double[] toDoubleArray() {
        return readAs(DType.FLOAT64, s -> s.toArray(ValueLayout.JAVA_DOUBLE));
    }

    public long[] toLongArray() {
        return readAs(DType.INT64, s -> s.toArray(ValueLayout.JAVA_LONG));
    }

    public int[] toIntArray() {
        return readAs(DType.INT32, s -> s.toArray(ValueLayout.JAVA_INT));
    }

    /** The value of a one-element tensor (synchronises with the device). */
    public double item() {
        return read(LibTorch::itemDouble);
    }

    public long itemLong() {
        return read(LibTorch::itemLong);
    }

    // ---- conversion and copies ------------------------------------------------------------

    public Tensor to(Device device) {
        return to(device, dtype());
    }

    public Tensor to(DType dtype) {
        return to(device(), dtype);
    }

    /**
     * Converts; returns a tensor sharing memory when nothing changes (as PyTorch), then without
     * dispatching an operator at all.
     */
    public Tensor to(Device device, DType dtype) {
        if (dtype == dtype() && device.equals(device())) return share();
        return viewOf(h -> LibTorch.to(h, dtype.code(), device.type().code, device.index(), 0, 0));
    }

    /** Asynchronous host-to-device copy from pinned memory (CUDA), a plain copy otherwise. */
    public Tensor toNonBlocking(Device device) {
        int dtype = dtype().code();
        return viewOf(h -> LibTorch.to(h, dtype, device.type().code, device.index(), 1, 0));
    }

    public Tensor pinMemory() {
        return op(LibTorch::pinMemory);
    }

    public Tensor clone() {
        return op(LibTorch::clone);
    }

    public Tensor contiguous() {
        return viewOf(LibTorch::contiguous);
    }

    /** Same data, cut from the autograd graph. */
    public Tensor detach() {
        return viewOf(LibTorch::detach);
    }

    /** Another handle to this very tensor (for holding it beyond a scope). */
    public Tensor share() {
        return viewOf(LibTorch::tensorShare);
    }

    public Tensor copy_(Tensor src) {
        return inPlace(src, (h, o) -> LibTorch.copy_(h, o, 0));
    }

    public Tensor fill_(double value) {
        return inPlace(h -> LibTorch.fill_(h, value));
    }

    public Tensor zero_() {
        return inPlace(LibTorch::zero_);
    }

    public Tensor normal_(double mean, double std, Generator gen) {
        return inPlace(h -> Generator.with(gen, g -> LibTorch.normal_(h, mean, std, g)));
    }

    public Tensor uniform_(double low, double high, Generator gen) {
        return inPlace(h -> Generator.with(gen, g -> LibTorch.uniform_(h, low, high, g)));
    }

    public Tensor truncNormal_(double mean, double std, double low, double high, Generator gen) {
        return inPlace(h -> Generator.with(gen, g -> LibTorch.truncNormal_(h, mean, std, low, high, g)));
    }

    public Tensor bernoulli_(double p, Generator gen) {
        return inPlace(h -> Generator.with(gen, g -> LibTorch.bernoulli_(h, p, g)));
    }

    // ---- elementwise ----------------------------------------------------------------------

    private Tensor unary(int op) {
        return op(h -> LibTorch.unary(op, h));
    }

    private Tensor binary(int op, Tensor other) {
        return op(other, (h, o) -> LibTorch.binary(op, h, o));
    }

    private Tensor binary(int op, double other) {
        return op(h -> LibTorch.binaryScalar(op, h, other));
    }

    public Tensor add(Tensor other) { return binary(Ops.ADD, other); }
    public Tensor add(double other) { return binary(Ops.ADD, other); }
    /** this + alpha * other */
    public Tensor add(Tensor other, double alpha) { return op(other, (h, o) -> LibTorch.addScaled(h, o, alpha)); }
    /** this + a * b, broadcasting all three, as one op. */
    public Tensor addcmul(Tensor a, Tensor b) { return compute(h -> LibTorch.addcmul(h[0], h[1], h[2], 1), this, a, b); }
    public Tensor sub(Tensor other) { return binary(Ops.SUB, other); }
    public Tensor sub(double other) { return binary(Ops.SUB, other); }
    /** other - this */
    public Tensor rsub(double other) { return binary(Ops.RSUB, other); }
    public Tensor mul(Tensor other) { return binary(Ops.MUL, other); }
    public Tensor mul(double other) { return binary(Ops.MUL, other); }
    public Tensor div(Tensor other) { return binary(Ops.DIV, other); }
    public Tensor div(double other) { return binary(Ops.DIV, other); }
    /** other / this */
    public Tensor rdiv(double other) { return binary(Ops.RDIV, other); }
    public Tensor pow(Tensor exponent) { return binary(Ops.POW, exponent); }
    public Tensor pow(double exponent) { return binary(Ops.POW, exponent); }
    public Tensor remainder(double other) { return binary(Ops.REMAINDER, other); }
    public Tensor maximum(Tensor other) { return binary(Ops.MAXIMUM, other); }
    public Tensor minimum(Tensor other) { return binary(Ops.MINIMUM, other); }
    public Tensor atan2(Tensor other) { return binary(Ops.ATAN2, other); }
    public Tensor eq(Tensor other) { return binary(Ops.EQ, other); }
    public Tensor eq(double other) { return binary(Ops.EQ, other); }
    public Tensor ne(Tensor other) { return binary(Ops.NE, other); }
    public Tensor lt(Tensor other) { return binary(Ops.LT, other); }
    public Tensor lt(double other) { return binary(Ops.LT, other); }
    public Tensor le(Tensor other) { return binary(Ops.LE, other); }
    public Tensor gt(Tensor other) { return binary(Ops.GT, other); }
    public Tensor gt(double other) { return binary(Ops.GT, other); }
    public Tensor ge(Tensor other) { return binary(Ops.GE, other); }
    public Tensor logicalAnd(Tensor other) { return binary(Ops.LOGICAL_AND, other); }
    public Tensor logicalOr(Tensor other) { return binary(Ops.LOGICAL_OR, other); }

    public Tensor neg() { return unary(Ops.NEG); }
    public Tensor exp() { return unary(Ops.EXP); }
    public Tensor log() { return unary(Ops.LOG); }
    public Tensor log1p() { return unary(Ops.LOG1P); }
    public Tensor expm1() { return unary(Ops.EXPM1); }
    public Tensor sqrt() { return unary(Ops.SQRT); }
    public Tensor rsqrt() { return unary(Ops.RSQRT); }
    public Tensor tanh() { return unary(Ops.TANH); }
    public Tensor sin() { return unary(Ops.SIN); }
    public Tensor cos() { return unary(Ops.COS); }
    public Tensor abs() { return unary(Ops.ABS); }
    public Tensor sigmoid() { return unary(Ops.SIGMOID); }
    public Tensor relu() { return unary(Ops.RELU); }
    public Tensor silu() { return unary(Ops.SILU); }
    public Tensor square() { return unary(Ops.SQUARE); }
    public Tensor erf() { return unary(Ops.ERF); }
    public Tensor reciprocal() { return unary(Ops.RECIPROCAL); }
    public Tensor sign() { return unary(Ops.SIGN); }
    public Tensor floor() { return unary(Ops.FLOOR); }
    public Tensor ceil() { return unary(Ops.CEIL); }
    public Tensor round() { return unary(Ops.ROUND); }
    public Tensor logicalNot() { return unary(Ops.LOGICAL_NOT); }
    public Tensor isnan() { return unary(Ops.ISNAN); }
    public Tensor isfinite() { return unary(Ops.ISFINITE); }

    /** GELU, exact (erf) or with the tanh approximation. */
    public Tensor gelu(boolean tanhApproximation) {
        return op(h -> LibTorch.gelu(h, tanhApproximation ? 1 : 0));
    }

    public Tensor clamp(double min, double max) {
        return op(h -> LibTorch.clamp(h, min, max, 1, 1));
    }

    public Tensor clampMin(double min) {
        return op(h -> LibTorch.clamp(h, min, 0, 1, 0));
    }

    public Tensor clampMax(double max) {
        return op(h -> LibTorch.clamp(h, 0, max, 0, 1));
    }

    /** condition ? a : b, elementwise with broadcasting. */
    public static Tensor where(Tensor condition, Tensor a, Tensor b) {
        return compute(h -> LibTorch.where(h[0], h[1], h[2]), condition, a, b);
    }

    public Tensor maskedFill(Tensor mask, double value) {
        return op(mask, (h, o) -> LibTorch.maskedFill(h, o, value));
    }

    // in place
    public Tensor add_(Tensor other) { return inPlace(other, (h, o) -> LibTorch.binary_(Ops.ADD, h, o)); }
    public Tensor add_(double other) { return inPlace(h -> LibTorch.binaryScalar_(Ops.ADD, h, other)); }
    /** this += alpha * other */
    public Tensor add_(Tensor other, double alpha) { return inPlace(other, (h, o) -> LibTorch.addScaled_(h, o, alpha)); }
    public Tensor sub_(Tensor other) { return inPlace(other, (h, o) -> LibTorch.binary_(Ops.SUB, h, o)); }
    public Tensor mul_(Tensor other) { return inPlace(other, (h, o) -> LibTorch.binary_(Ops.MUL, h, o)); }
    public Tensor mul_(double other) { return inPlace(h -> LibTorch.binaryScalar_(Ops.MUL, h, other)); }
    public Tensor div_(double other) { return inPlace(h -> LibTorch.binaryScalar_(Ops.DIV, h, other)); }
    public Tensor clamp_(double min, double max) { return inPlace(h -> LibTorch.clamp_(h, min, max, 1, 1)); }
    /** SiLU (x sigmoid(x)) in place. */
    public Tensor silu_() { return inPlace(h -> LibTorch.unary_(Ops.SILU, h)); }
    /** this += weight * (end - this) */
    public Tensor lerp_(Tensor end, double weight) { return inPlace(end, (h, o) -> LibTorch.lerp_(h, o, weight)); }

    // ---- reductions -----------------------------------------------------------------------

    public Tensor sum() { return op(h -> LibTorch.sum(h, null, 0)); }
    public Tensor sum(long dim, boolean keepdim) { return sum(new long[] {dim}, keepdim); }
    public Tensor sum(long[] dims, boolean keepdim) { return op(h -> LibTorch.sum(h, dims, keepdim ? 1 : 0)); }
    public Tensor mean() { return op(h -> LibTorch.mean(h, null, 0)); }
    public Tensor mean(long dim, boolean keepdim) { return mean(new long[] {dim}, keepdim); }
    public Tensor mean(long[] dims, boolean keepdim) { return op(h -> LibTorch.mean(h, dims, keepdim ? 1 : 0)); }

    /** Variance over dims with Bessel-style correction (1 = unbiased, 0 = population). */
    public Tensor var(long[] dims, double correction, boolean keepdim) {
        return op(h -> LibTorch.var(h, dims, correction, keepdim ? 1 : 0));
    }

    public Tensor max() { return op(LibTorch::maxAll); }
    public Tensor min() { return op(LibTorch::minAll); }

    /** Values and indices of the maximum along dim. */
    public ValuesIndices max(long dim, boolean keepdim) {
        MemorySegment[] r = call(Use.COMPUTE, this, h -> LibTorch.maxDim(h, dim, keepdim, false));
        return new ValuesIndices(wrap(r[0]), wrap(r[1]));
    }

    public ValuesIndices min(long dim, boolean keepdim) {
        MemorySegment[] r = call(Use.COMPUTE, this, h -> LibTorch.maxDim(h, dim, keepdim, true));
        return new ValuesIndices(wrap(r[0]), wrap(r[1]));
    }

    public Tensor argmax(long dim, boolean keepdim) { return op(h -> LibTorch.argmax(h, dim, keepdim ? 1 : 0)); }

    /** The k largest values along dim, in descending order, and their int64 indices (torch.topk). */
    public ValuesIndices topk(long k, long dim) {
        MemorySegment[] r = call(Use.COMPUTE, this, h -> LibTorch.topk(h, k, dim, true, true));
        return new ValuesIndices(wrap(r[0]), wrap(r[1]));
    }

    /** The int64 indices that sort this along dim in ascending order (torch.argsort; ties in no set order). */
    public Tensor argsort(long dim) { return op(h -> LibTorch.argsort(h, dim, 0, 0)); }

    /** p-norm over dims (all when dims is null). */
    public Tensor norm(double p, long[] dims, boolean keepdim) {
        return op(h -> LibTorch.norm(h, p, dims, keepdim ? 1 : 0));
    }

    public Tensor cumsum(long dim) { return op(h -> LibTorch.cumsum(h, dim)); }
    public Tensor cumprod(long dim) { return op(h -> LibTorch.cumprod(h, dim)); }

    /** Same shape and {@code |this - other| <= atol + rtol * |other|} everywhere. */
    public boolean allclose(Tensor other, double rtol, double atol) {
        return call(Use.DIRECT, this, other, (h, o) -> LibTorch.allclose(h, o, rtol, atol)) == 1;
    }

    /** Values and their indices from a max/min along a dim; closing it closes both. */
    public record ValuesIndices(Tensor values, Tensor indices) implements AutoCloseable {
        @Override
        public void close() {
            values.close();
            indices.close();
        }
    }

    // ---- shape and indexing ---------------------------------------------------------------

    public Tensor reshape(long... shape) { return viewOf(h -> LibTorch.reshape(h, shape)); }
    public Tensor view(long... shape) { return viewOf(h -> LibTorch.view(h, shape)); }
    public Tensor permute(long... dims) { return viewOf(h -> LibTorch.permute(h, dims)); }
    public Tensor transpose(long dim0, long dim1) { return viewOf(h -> LibTorch.transpose(h, dim0, dim1)); }
    public Tensor flatten(long startDim, long endDim) { return viewOf(h -> LibTorch.flatten(h, startDim, endDim)); }
    public Tensor flatten() { return flatten(0, -1); }
    public Tensor unsqueeze(long dim) { return viewOf(h -> LibTorch.unsqueeze(h, dim)); }
    public Tensor squeeze(long dim) { return viewOf(h -> LibTorch.squeeze(h, dim)); }
    public Tensor squeeze() { return viewOf(LibTorch::squeezeAll); }
    public Tensor expand(long... shape) { return viewOf(h -> LibTorch.expand(h, shape)); }
    public Tensor repeat(long... repeats) { return op(h -> LibTorch.repeat(h, repeats)); }
    public Tensor flip(long... dims) { return op(h -> LibTorch.flip(h, dims)); }
    public Tensor narrow(long dim, long start, long length) { return viewOf(h -> LibTorch.narrow(h, dim, start, length)); }
    public Tensor slice(long dim, long start, long end, long step) { return viewOf(h -> LibTorch.slice(h, dim, start, end, step)); }
    public Tensor select(long dim, long index) { return viewOf(h -> LibTorch.select(h, dim, index)); }
    public Tensor indexSelect(long dim, Tensor index) { return op(index, (h, i) -> LibTorch.indexSelect(h, dim, i)); }
    public Tensor gather(long dim, Tensor index) { return op(index, (h, i) -> LibTorch.gather(h, dim, i)); }
    public Tensor scatter(long dim, Tensor index, Tensor src) { return compute(h -> LibTorch.scatter(h[0], dim, h[1], h[2]), this, index, src); }
    public Tensor scatterAdd(long dim, Tensor index, Tensor src) { return compute(h -> LibTorch.scatterAdd(h[0], dim, h[1], h[2]), this, index, src); }
    public Tensor oneHot(long numClasses) { return op(h -> LibTorch.oneHot(h, numClasses)); }
    public Tensor tril(long diagonal) { return op(h -> LibTorch.tril(h, diagonal)); }

    /** Splits into {@code chunks} pieces along dim (views). */
    public List<Tensor> chunk(long chunks, long dim) {
        return aliases(read(h -> LibTorch.chunk(h, chunks, dim)));
    }

    /**
     * The slices along {@code dim}, each without that dimension (views, as torch.unbind). Their
     * gradients meet in one concatenation, where separate {@link #select}s would each scatter
     * into a zero tensor of the whole size and then be summed.
     */
    public List<Tensor> unbind(long dim) {
        List<Tensor> parts = chunk(size(Math.toIntExact(dim)), dim);
        List<Tensor> out = new java.util.ArrayList<>(parts.size());
        for (Tensor p : parts) {
            out.add(p.squeeze(dim));
            p.close();
        }
        return out;
    }

    /** Splits into pieces of {@code splitSize} along dim (views; the last may be smaller). */
    public List<Tensor> split(long splitSize, long dim) {
        return aliases(read(h -> LibTorch.split(h, splitSize, dim)));
    }

    private List<Tensor> aliases(MemorySegment[] hs) {
        Tensor[] ts = new Tensor[hs.length];
        for (int i = 0; i < hs.length; i++) ts[i] = alias(hs[i]);
        return List.of(ts);
    }

    public static Tensor cat(List<Tensor> tensors, long dim) {
        return wrap(callLists(Use.COMPUTE, List.of(tensors), hs -> LibTorch.cat(hs[0], dim)));
    }

    public static Tensor stack(List<Tensor> tensors, long dim) {
        return wrap(callLists(Use.COMPUTE, List.of(tensors), hs -> LibTorch.stack(hs[0], dim)));
    }

    // ---- linear algebra -------------------------------------------------------------------

    public Tensor matmul(Tensor other) { return counted(FlopCounter.Op.MATMUL, op(other, LibTorch::matmul)); }
    public Tensor mm(Tensor other) { return counted(FlopCounter.Op.MM, op(other, LibTorch::mm)); }
    public Tensor bmm(Tensor other) { return counted(FlopCounter.Op.BMM, op(other, LibTorch::bmm)); }

    /** Reports a product this @ other (contracting this's last dim) to open FlopCounters. */
    private Tensor counted(FlopCounter.Op op, Tensor out) {
        if (FlopCounter.active()) FlopCounter.product(op, out, size(-1));
        return out;
    }

    // ---- autograd -------------------------------------------------------------------------

    public boolean requiresGrad() {
        return read(LibTorch::tensorRequiresGrad) == 1;
    }

    /** Marks this (leaf) tensor as needing gradients; returns this. */
    public Tensor requiresGrad(boolean requires) {
        read(h -> LibTorch.tensorSetRequiresGrad(h, requires ? 1 : 0));
        return this;
    }

    public boolean isLeaf() {
        return read(LibTorch::tensorIsLeaf) == 1;
    }

    /** The accumulated gradient (a new handle to it), or null when there is none. */
    public Tensor grad() {
        MemorySegment g = read(h -> LibTorch.tensorHasGrad(h) == 1 ? LibTorch.tensorGrad(h) : null);
        return g == null ? null : wrap(g);
    }

    /** Replaces the gradient; null clears it. A gradient over borrowed memory is stored as a copy. */
    public void setGrad(Tensor grad) {
        if (grad != null && grad.borrowed != null) {
            try (Tensor copy = grad.detach().clone()) { // a parameter's grad outlives any arena
                setGrad(copy);
            }
            return;
        }
        callN(Use.DIRECT, new Tensor[] {this, grad}, h -> LibTorch.tensorSetGrad(h[0], h[1]));
    }

    public void zeroGrad() {
        setGrad(null);
    }

    /** Backpropagates from this scalar. */
    public void backward() {
        read(h -> LibTorch.backward(h, null, 0, 0));
    }

    /** Backpropagates with the given upstream gradient. */
    public void backward(Tensor grad) {
        call(Use.DIRECT, this, grad, (h, g) -> LibTorch.backward(h, g, 0, 0));
    }

    public void backward(Tensor grad, boolean retainGraph, boolean createGraph) {
        callN(Use.DIRECT, new Tensor[] {this, grad}, h -> LibTorch.backward(h[0], h[1], retainGraph ? 1 : 0, createGraph ? 1 : 0));
    }
}
