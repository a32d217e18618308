package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array in libtorch's memory (CPU or CUDA), with autograd.
 *
 * <p>A tensor owns one native handle and must be closed: directly, or by the {@link TensorScope}
 * that was innermost when it was created. Operations return new tensors; names ending in
 * {@code _} work in place, as in PyTorch. Elementwise ops broadcast.
 */
public final class Tensor implements AutoCloseable {
    private MemorySegment handle;
    /** Non-null when the data is a caller's segment: the tensor is unusable once its arena closes. */
    private final MemorySegment.Scope borrowed;
    private Arena segmentViews;
    private final Leaks.Tracker leakTracker;
    TensorScope owner;

    Tensor(MemorySegment handle, MemorySegment.Scope borrowed) {
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

    /** The native handle; fails if the tensor was closed or the memory it wraps was freed. */
    MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null) throw new IllegalStateException("tensor used after close()");
        if (borrowed != null && !borrowed.isAlive()) {
            throw new IllegalStateException("tensor wraps a MemorySegment whose arena is closed: "
                    + "the tensor must not outlive the memory it wraps");
        }
        return h;
    }

    static MemorySegment handleOrNull(Tensor t) {
        return t == null ? null : t.handle();
    }

    static MemorySegment[] handles(List<Tensor> ts) {
        MemorySegment[] hs = new MemorySegment[ts.size()];
        for (int i = 0; i < hs.length; i++) hs[i] = ts.get(i).handle();
        return hs;
    }

    public boolean isClosed() {
        return handle == null;
    }

    /** Frees the native handle now. Idempotent. */
    @Override
    public void close() {
        TensorScope.release(this);
        closeOwned();
    }

    void closeOwned() {
        MemorySegment h = handle;
        if (h == null) return;
        handle = null;
        if (segmentViews != null) segmentViews.close();
        leakTracker.closed();
        LibTorch.tensorFree(h);
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
        return wrap(LibTorch.randn(shape, dtype.code(), device.type().code, device.index(), Generator.handleOf(gen)));
    }

    public static Tensor rand(long[] shape, DType dtype, Device device, Generator gen) {
        return wrap(LibTorch.rand(shape, dtype.code(), device.type().code, device.index(), Generator.handleOf(gen)));
    }

    /** Integers uniform in [low, high). */
    public static Tensor randint(long low, long high, long[] shape, Device device, Generator gen) {
        return wrap(LibTorch.randint(low, high, shape, DType.INT64.code(), device.type().code, device.index(),
                Generator.handleOf(gen)));
    }

    public static Tensor randperm(long n, Device device, Generator gen) {
        return wrap(LibTorch.randperm(n, device.type().code, device.index(), Generator.handleOf(gen)));
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
        MemorySegment.copy(data, 0, t.dataSegment(), 0, count * dtype.byteSize());
        return t;
    }

    /**
     * A CPU tensor over {@code segment} without copying: writes on either side are seen by the other.
     * The tensor (and its views) become unusable once the segment's arena is closed.
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        checkSegment(segment, dtype, shape);
        return new Tensor(LibTorch.fromBlob(segment, shape, null, dtype.code(), null), segment.scope());
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
        return LibTorch.tensorSizes(handle());
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
        return LibTorch.tensorStrides(handle());
    }

    public int dim() {
        return LibTorch.tensorDim(handle());
    }

    public long numel() {
        return LibTorch.tensorNumel(handle());
    }

    public DType dtype() {
        return DType.fromCode(LibTorch.tensorDtype(handle()));
    }

    public Device device() {
        MemorySegment h = handle();
        return Device.of(LibTorch.tensorDeviceType(h), LibTorch.tensorDeviceIndex(h));
    }

    public boolean isContiguous() {
        return LibTorch.tensorIsContiguous(handle()) == 1;
    }

    /** True when both tensors are the same libtorch tensor (same storage, view and autograd identity). */
    public boolean isSameAs(Tensor other) {
        return LibTorch.tensorSame(handle(), other.handle()) == 1;
    }

    @Override
    public String toString() {
        if (isClosed()) return "Tensor(closed)";
        return "Tensor(" + Arrays.toString(shape()) + ", " + dtype() + ", " + device() + ")";
    }

    // ---- data access ----------------------------------------------------------------------

    /**
     * A view of this CPU tensor's elements as a MemorySegment, without copying. Requires a
     * contiguous tensor. The segment becomes inaccessible when this tensor is closed.
     */
    public MemorySegment asSegment() {
        MemorySegment h = handle();
        if (LibTorch.tensorDeviceType(h) != Device.Type.CPU.code) {
            throw new IllegalStateException("asSegment() needs a CPU tensor; this one is on " + device());
        }
        if (LibTorch.tensorIsContiguous(h) != 1) throw new IllegalStateException("asSegment() needs a contiguous tensor");
        if (LibTorch.tensorNumel(h) == 0) return MemorySegment.NULL; // no elements, no address
        if (segmentViews == null) segmentViews = Arena.ofShared();
        long bytes = LibTorch.tensorNumel(h) * LibTorch.tensorElementSize(h);
        return LibTorch.tensorDataPtr(h).reinterpret(bytes, segmentViews, null);
    }

    private MemorySegment dataSegment() {
        MemorySegment h = handle();
        if (LibTorch.tensorNumel(h) == 0) return MemorySegment.NULL;
        return LibTorch.tensorDataPtr(h).reinterpret(LibTorch.tensorNumel(h) * LibTorch.tensorElementSize(h));
    }

    /** Reads the elements (any device and layout) converted to dtype, in row-major order. */
    private <A> A readAs(DType dtype, java.util.function.Function<MemorySegment, A> reader) {
        try (Tensor converted = to(Device.CPU, dtype); Tensor host = converted.contiguous()) {
            return reader.apply(host.dataSegment());
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
        return LibTorch.itemDouble(handle());
    }

    public long itemLong() {
        return LibTorch.itemLong(handle());
    }

    // ---- conversion and copies ------------------------------------------------------------

    public Tensor to(Device device) {
        return to(device, dtype());
    }

    public Tensor to(DType dtype) {
        return to(device(), dtype);
    }

    /** Converts; returns a tensor sharing memory when nothing changes (as PyTorch). */
    public Tensor to(Device device, DType dtype) {
        return alias(LibTorch.to(handle(), dtype.code(), device.type().code, device.index(), 0, 0));
    }

    /** Asynchronous host-to-device copy from pinned memory (CUDA), a plain copy otherwise. */
    public Tensor toNonBlocking(Device device) {
        return alias(LibTorch.to(handle(), dtype().code(), device.type().code, device.index(), 1, 0));
    }

    public Tensor pinMemory() {
        return wrap(LibTorch.pinMemory(handle()));
    }

    public Tensor clone() {
        return wrap(LibTorch.clone(handle()));
    }

    public Tensor contiguous() {
        return alias(LibTorch.contiguous(handle()));
    }

    /** Same data, cut from the autograd graph. */
    public Tensor detach() {
        return alias(LibTorch.detach(handle()));
    }

    /** Another handle to this very tensor (for holding it beyond a scope). */
    public Tensor share() {
        return alias(LibTorch.tensorShare(handle()));
    }

    public Tensor copy_(Tensor src) {
        LibTorch.copy_(handle(), src.handle(), 0);
        return this;
    }

    public Tensor fill_(double value) {
        LibTorch.fill_(handle(), value);
        return this;
    }

    public Tensor zero_() {
        LibTorch.zero_(handle());
        return this;
    }

    public Tensor normal_(double mean, double std, Generator gen) {
        LibTorch.normal_(handle(), mean, std, Generator.handleOf(gen));
        return this;
    }

    public Tensor uniform_(double low, double high, Generator gen) {
        LibTorch.uniform_(handle(), low, high, Generator.handleOf(gen));
        return this;
    }

    public Tensor truncNormal_(double mean, double std, double low, double high, Generator gen) {
        LibTorch.truncNormal_(handle(), mean, std, low, high, Generator.handleOf(gen));
        return this;
    }

    public Tensor bernoulli_(double p, Generator gen) {
        LibTorch.bernoulli_(handle(), p, Generator.handleOf(gen));
        return this;
    }

    // ---- elementwise ----------------------------------------------------------------------

    private Tensor unary(int op) {
        return wrap(LibTorch.unary(op, handle()));
    }

    private Tensor binary(int op, Tensor other) {
        return wrap(LibTorch.binary(op, handle(), other.handle()));
    }

    private Tensor binary(int op, double other) {
        return wrap(LibTorch.binaryScalar(op, handle(), other));
    }

    public Tensor add(Tensor other) { return binary(Ops.ADD, other); }
    public Tensor add(double other) { return binary(Ops.ADD, other); }
    /** this + alpha * other */
    public Tensor add(Tensor other, double alpha) { return wrap(LibTorch.addScaled(handle(), other.handle(), alpha)); }
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
        return wrap(LibTorch.gelu(handle(), tanhApproximation ? 1 : 0));
    }

    public Tensor clamp(double min, double max) {
        return wrap(LibTorch.clamp(handle(), min, max, 1, 1));
    }

    public Tensor clampMin(double min) {
        return wrap(LibTorch.clamp(handle(), min, 0, 1, 0));
    }

    public Tensor clampMax(double max) {
        return wrap(LibTorch.clamp(handle(), 0, max, 0, 1));
    }

    /** condition ? a : b, elementwise with broadcasting. */
    public static Tensor where(Tensor condition, Tensor a, Tensor b) {
        return wrap(LibTorch.where(condition.handle(), a.handle(), b.handle()));
    }

    public Tensor maskedFill(Tensor mask, double value) {
        return wrap(LibTorch.maskedFill(handle(), mask.handle(), value));
    }

    // in place
    public Tensor add_(Tensor other) { LibTorch.binary_(Ops.ADD, handle(), other.handle()); return this; }
    public Tensor add_(double other) { LibTorch.binaryScalar_(Ops.ADD, handle(), other); return this; }
    /** this += alpha * other */
    public Tensor add_(Tensor other, double alpha) { LibTorch.addScaled_(handle(), other.handle(), alpha); return this; }
    public Tensor sub_(Tensor other) { LibTorch.binary_(Ops.SUB, handle(), other.handle()); return this; }
    public Tensor mul_(Tensor other) { LibTorch.binary_(Ops.MUL, handle(), other.handle()); return this; }
    public Tensor mul_(double other) { LibTorch.binaryScalar_(Ops.MUL, handle(), other); return this; }
    public Tensor div_(double other) { LibTorch.binaryScalar_(Ops.DIV, handle(), other); return this; }
    public Tensor clamp_(double min, double max) { LibTorch.clamp_(handle(), min, max, 1, 1); return this; }
    /** this += weight * (end - this) */
    public Tensor lerp_(Tensor end, double weight) { LibTorch.lerp_(handle(), end.handle(), weight); return this; }

    // ---- reductions -----------------------------------------------------------------------

    public Tensor sum() { return wrap(LibTorch.sum(handle(), null, 0)); }
    public Tensor sum(long dim, boolean keepdim) { return sum(new long[] {dim}, keepdim); }
    public Tensor sum(long[] dims, boolean keepdim) { return wrap(LibTorch.sum(handle(), dims, keepdim ? 1 : 0)); }
    public Tensor mean() { return wrap(LibTorch.mean(handle(), null, 0)); }
    public Tensor mean(long dim, boolean keepdim) { return mean(new long[] {dim}, keepdim); }
    public Tensor mean(long[] dims, boolean keepdim) { return wrap(LibTorch.mean(handle(), dims, keepdim ? 1 : 0)); }

    /** Variance over dims with Bessel-style correction (1 = unbiased, 0 = population). */
    public Tensor var(long[] dims, double correction, boolean keepdim) {
        return wrap(LibTorch.var(handle(), dims, correction, keepdim ? 1 : 0));
    }

    public Tensor max() { return wrap(LibTorch.maxAll(handle())); }
    public Tensor min() { return wrap(LibTorch.minAll(handle())); }

    /** Values and indices of the maximum along dim. */
    public ValuesIndices max(long dim, boolean keepdim) {
        MemorySegment[] r = LibTorch.maxDim(handle(), dim, keepdim, false);
        return new ValuesIndices(wrap(r[0]), wrap(r[1]));
    }

    public ValuesIndices min(long dim, boolean keepdim) {
        MemorySegment[] r = LibTorch.maxDim(handle(), dim, keepdim, true);
        return new ValuesIndices(wrap(r[0]), wrap(r[1]));
    }

    public Tensor argmax(long dim, boolean keepdim) { return wrap(LibTorch.argmax(handle(), dim, keepdim ? 1 : 0)); }

    /** p-norm over dims (all when dims is null). */
    public Tensor norm(double p, long[] dims, boolean keepdim) {
        return wrap(LibTorch.norm(handle(), p, dims, keepdim ? 1 : 0));
    }

    public Tensor cumsum(long dim) { return wrap(LibTorch.cumsum(handle(), dim)); }
    public Tensor cumprod(long dim) { return wrap(LibTorch.cumprod(handle(), dim)); }

    /** Same shape and |this - other| <= atol + rtol * |other| everywhere. */
    public boolean allclose(Tensor other, double rtol, double atol) {
        return LibTorch.allclose(handle(), other.handle(), rtol, atol) == 1;
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

    public Tensor reshape(long... shape) { return alias(LibTorch.reshape(handle(), shape)); }
    public Tensor view(long... shape) { return alias(LibTorch.view(handle(), shape)); }
    public Tensor permute(long... dims) { return alias(LibTorch.permute(handle(), dims)); }
    public Tensor transpose(long dim0, long dim1) { return alias(LibTorch.transpose(handle(), dim0, dim1)); }
    public Tensor flatten(long startDim, long endDim) { return alias(LibTorch.flatten(handle(), startDim, endDim)); }
    public Tensor flatten() { return flatten(0, -1); }
    public Tensor unsqueeze(long dim) { return alias(LibTorch.unsqueeze(handle(), dim)); }
    public Tensor squeeze(long dim) { return alias(LibTorch.squeeze(handle(), dim)); }
    public Tensor squeeze() { return alias(LibTorch.squeezeAll(handle())); }
    public Tensor expand(long... shape) { return alias(LibTorch.expand(handle(), shape)); }
    public Tensor repeat(long... repeats) { return wrap(LibTorch.repeat(handle(), repeats)); }
    public Tensor flip(long... dims) { return wrap(LibTorch.flip(handle(), dims)); }
    public Tensor narrow(long dim, long start, long length) { return alias(LibTorch.narrow(handle(), dim, start, length)); }
    public Tensor slice(long dim, long start, long end, long step) { return alias(LibTorch.slice(handle(), dim, start, end, step)); }
    public Tensor select(long dim, long index) { return alias(LibTorch.select(handle(), dim, index)); }
    public Tensor indexSelect(long dim, Tensor index) { return wrap(LibTorch.indexSelect(handle(), dim, index.handle())); }
    public Tensor gather(long dim, Tensor index) { return wrap(LibTorch.gather(handle(), dim, index.handle())); }
    public Tensor scatter(long dim, Tensor index, Tensor src) { return wrap(LibTorch.scatter(handle(), dim, index.handle(), src.handle())); }
    public Tensor scatterAdd(long dim, Tensor index, Tensor src) { return wrap(LibTorch.scatterAdd(handle(), dim, index.handle(), src.handle())); }
    public Tensor oneHot(long numClasses) { return wrap(LibTorch.oneHot(handle(), numClasses)); }
    public Tensor tril(long diagonal) { return wrap(LibTorch.tril(handle(), diagonal)); }

    /** Splits into {@code chunks} pieces along dim (views). */
    public List<Tensor> chunk(long chunks, long dim) {
        return aliases(LibTorch.chunk(handle(), chunks, dim));
    }

    /** Splits into pieces of {@code splitSize} along dim (views; the last may be smaller). */
    public List<Tensor> split(long splitSize, long dim) {
        return aliases(LibTorch.split(handle(), splitSize, dim));
    }

    private List<Tensor> aliases(MemorySegment[] hs) {
        Tensor[] ts = new Tensor[hs.length];
        for (int i = 0; i < hs.length; i++) ts[i] = alias(hs[i]);
        return List.of(ts);
    }

    public static Tensor cat(List<Tensor> tensors, long dim) {
        return wrap(LibTorch.cat(handles(tensors), dim));
    }

    public static Tensor stack(List<Tensor> tensors, long dim) {
        return wrap(LibTorch.stack(handles(tensors), dim));
    }

    // ---- linear algebra -------------------------------------------------------------------

    public Tensor matmul(Tensor other) { return counted(FlopCounter.Op.MATMUL, wrap(LibTorch.matmul(handle(), other.handle()))); }
    public Tensor mm(Tensor other) { return counted(FlopCounter.Op.MM, wrap(LibTorch.mm(handle(), other.handle()))); }
    public Tensor bmm(Tensor other) { return counted(FlopCounter.Op.BMM, wrap(LibTorch.bmm(handle(), other.handle()))); }

    /** Reports a product this @ other (contracting this's last dim) to open FlopCounters. */
    private Tensor counted(FlopCounter.Op op, Tensor out) {
        if (FlopCounter.active()) FlopCounter.product(op, out, size(-1));
        return out;
    }

    // ---- autograd -------------------------------------------------------------------------

    public boolean requiresGrad() {
        return LibTorch.tensorRequiresGrad(handle()) == 1;
    }

    /** Marks this (leaf) tensor as needing gradients; returns this. */
    public Tensor requiresGrad(boolean requires) {
        LibTorch.tensorSetRequiresGrad(handle(), requires ? 1 : 0);
        return this;
    }

    public boolean isLeaf() {
        return LibTorch.tensorIsLeaf(handle()) == 1;
    }

    /** The accumulated gradient (a new handle to it), or null when there is none. */
    public Tensor grad() {
        MemorySegment h = handle();
        return LibTorch.tensorHasGrad(h) == 1 ? wrap(LibTorch.tensorGrad(h)) : null;
    }

    /** Replaces the gradient; null clears it. */
    public void setGrad(Tensor grad) {
        LibTorch.tensorSetGrad(handle(), handleOrNull(grad));
    }

    public void zeroGrad() {
        setGrad(null);
    }

    /** Backpropagates from this scalar. */
    public void backward() {
        LibTorch.backward(handle(), null, 0, 0);
    }

    /** Backpropagates with the given upstream gradient. */
    public void backward(Tensor grad) {
        LibTorch.backward(handle(), grad.handle(), 0, 0);
    }

    public void backward(Tensor grad, boolean retainGraph, boolean createGraph) {
        LibTorch.backward(handle(), handleOrNull(grad), retainGraph ? 1 : 0, createGraph ? 1 : 0);
    }
}
