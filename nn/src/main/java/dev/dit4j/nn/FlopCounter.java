package dev.dit4j.nn;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the multiply-accumulates (MACs: one multiply-add = 1, the "FLOP" of the DiT paper) of
 * the matrix products, convolutions and attention that run on this thread while it is open, as
 * fvcore and {@code torch.utils.flop_counter} do: from the shapes of the ops actually called, not
 * from a formula per model. Elementwise ops and biases are not counted, nor backward passes.
 * Layer norms are tallied apart ({@link Op#LAYER_NORM} in {@link #byOp()}, not in {@link #macs()}),
 * with fvcore's convention of 4 FLOPs per element (5 with an affine transform), for the papers
 * whose tables count them.
 *
 * <pre>{@code
 * try (FlopCounter c = FlopCounter.start()) {
 *     model.forward(x, t, y);
 *     long macs = c.macs();
 * }
 * }</pre>
 *
 * Counters nest: an op is added to every counter open on its thread. With none open anywhere the
 * hooks cost one volatile read.
 */
public final class FlopCounter implements AutoCloseable {
    /** The counted operations, by the Java entry point that runs them. */
    public enum Op {
        LINEAR, ADDMM, MM, BMM, MATMUL, CONV2D, CONV_TRANSPOSE2D, SCALED_DOT_PRODUCT_ATTENTION,
        /** fvcore's layer-norm FLOPs; reported in {@link #byOp()} only, never added to {@link #macs()}. */
        LAYER_NORM
    }

    /** Open counters on all threads: the hooks' fast path reads only this. */
    private static final AtomicInteger OPEN = new AtomicInteger();
    private static final ThreadLocal<Deque<FlopCounter>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Thread owner = Thread.currentThread();
    private final Map<Op, Long> byOp = new EnumMap<>(Op.class);
    private long macs;
    private boolean closed;

    private FlopCounter() {}

    /** Opens a counter on this thread; close it (on this thread) to stop counting. */
    public static FlopCounter start() {
        FlopCounter c = new FlopCounter();
        STACK.get().push(c);
        OPEN.incrementAndGet();
        return c;
    }

    /** Total MACs counted so far. */
    public long macs() {
        return macs;
    }

    /** MACs per operation kind, only kinds that ran, in {@link Op} order. */
    public Map<Op, Long> byOp() {
        return Collections.unmodifiableMap(new EnumMap<>(byOp));
    }

    /** Stops counting; the totals stay readable. Counters close innermost first. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) throw new IllegalStateException("a FlopCounter must be closed on the thread that started it");
        Deque<FlopCounter> stack = STACK.get();
        if (stack.peek() != this) throw new IllegalStateException("FlopCounters must be closed innermost first");
        stack.pop();
        closed = true;
        OPEN.decrementAndGet();
    }

    // ---- hooks (called by Tensor and Functional after the op ran) -------------------------------

    /** True when some counter is open on some thread: the only cost when none is. */
    static boolean active() {
        return OPEN.get() != 0;
    }

    private static void add(Op op, long count) {
        for (FlopCounter c : STACK.get()) {
            if (op != Op.LAYER_NORM) c.macs += count;
            c.byOp.merge(op, count, Long::sum);
        }
    }

    /** Layer norm, fvcore's count: 4 FLOPs per element (mean, variance, normalise), 5 with an affine transform. */
    static void layerNorm(Tensor out, boolean affine) {
        add(Op.LAYER_NORM, out.numel() * (affine ? 5 : 4));
    }

    /** Any matrix product: every output element is a dot product of length {@code inner}. */
    static void product(Op op, Tensor out, long inner) {
        add(op, out.numel() * inner);
    }

    /** Convolution, weight [out, in/groups, kh, kw]: each output element reads in/groups*kh*kw inputs. */
    static void conv2d(Tensor out, Tensor weight) {
        add(Op.CONV2D, out.numel() * perFilter(weight));
    }

    /** Transposed convolution, weight [in, out/groups, kh, kw]: each input element scatters into out/groups*kh*kw outputs. */
    static void convTranspose2d(Tensor x, Tensor weight) {
        add(Op.CONV_TRANSPOSE2D, x.numel() * perFilter(weight));
    }

    private static long perFilter(Tensor weight) {
        long[] w = weight.shape();
        long n = 1;
        for (int i = 1; i < w.length; i++) n *= w[i];
        return n;
    }

    /**
     * softmax(q k^T) v with q [..., L, E], k [..., S, E], v [..., S, Ev]: the two products q k^T
     * (L*S*E) and (.)v (L*S*Ev) per batch entry; masks, scaling and softmax are not counted.
     */
    static void attention(Tensor q, Tensor k, Tensor out) {
        long[] o = out.shape();
        long l = o[o.length - 2], ev = o[o.length - 1];
        long batch = out.numel() / Math.max(1, l * ev);
        long s = k.size(-2), e = q.size(-1);
        add(Op.SCALED_DOT_PRODUCT_ATTENTION, batch * l * s * (e + ev));
    }
}
