package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;

/** Neural-network functions (torch.nn.functional counterparts). */
public final class Functional {
    private Functional() {}

    /** x @ weight^T + bias (bias may be null). */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Tensor out = Tensor.wrap(LibTorch.linear(x.handle(), weight.handle(), Tensor.handleOrNull(bias)));
        if (FlopCounter.active()) FlopCounter.product(FlopCounter.Op.LINEAR, out, weight.size(-1));
        return out;
    }

    /** beta * input + alpha * (a @ b). */
    public static Tensor addmm(Tensor input, Tensor a, Tensor b, double beta, double alpha) {
        Tensor out = Tensor.wrap(LibTorch.addmm(input.handle(), a.handle(), b.handle(), beta, alpha));
        if (FlopCounter.active()) FlopCounter.product(FlopCounter.Op.ADDMM, out, a.size(-1));
        return out;
    }

    public static Tensor softmax(Tensor x, long dim) {
        return Tensor.wrap(LibTorch.softmax(x.handle(), dim));
    }

    public static Tensor logSoftmax(Tensor x, long dim) {
        return Tensor.wrap(LibTorch.logSoftmax(x.handle(), dim));
    }

    /** Layer norm over the trailing {@code normalizedShape}; weight and bias may be null (no affine). */
    public static Tensor layerNorm(Tensor x, long[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        Tensor out = Tensor.wrap(LibTorch.layerNorm(x.handle(), normalizedShape, Tensor.handleOrNull(weight),
                Tensor.handleOrNull(bias), eps));
        if (FlopCounter.active()) FlopCounter.layerNorm(out, weight != null);
        return out;
    }

    public static Tensor groupNorm(Tensor x, long groups, Tensor weight, Tensor bias, double eps) {
        return Tensor.wrap(LibTorch.groupNorm(x.handle(), groups, Tensor.handleOrNull(weight), Tensor.handleOrNull(bias), eps));
    }

    public static Tensor gelu(Tensor x, boolean tanhApproximation) {
        return x.gelu(tanhApproximation);
    }

    public static Tensor silu(Tensor x) {
        return x.silu();
    }

    /** An attention output and the kernel that produced it. */
    public record Attention(Tensor output, SdpaBackend backend) implements AutoCloseable {
        @Override
        public void close() {
            output.close();
        }
    }

    /**
     * softmax(q k^T * scale + mask) v over [..., L, E] inputs. {@code mask} (may be null) is a bool
     * keep-mask or an additive float bias; {@code scale <= 0} means 1/sqrt(E). A forced backend
     * that cannot run these inputs throws with libtorch's reason rather than falling back.
     */
    public static Attention scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, double dropout,
                                                      boolean causal, double scale, SdpaBackend backend) {
        LibTorch.SdpaResult r = LibTorch.sdpa(q.handle(), k.handle(), v.handle(), Tensor.handleOrNull(mask), dropout,
                causal, scale, backend.code);
        Tensor out = Tensor.wrap(r.output());
        if (FlopCounter.active()) FlopCounter.attention(q, k, out);
        return new Attention(out, SdpaBackend.fromCode(r.backendUsed()));
    }

    /** Attention with libtorch's choice of kernel, no mask, no dropout; returns the output only. */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v) {
        return scaledDotProductAttention(q, k, v, null, 0, false, 0, SdpaBackend.AUTO).output();
    }

    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, long stride, long padding, long groups) {
        return conv2d(x, weight, bias, new long[] {stride, stride}, new long[] {padding, padding}, new long[] {1, 1}, groups);
    }

    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, long[] stride, long[] padding, long[] dilation,
                                long groups) {
        Tensor out = Tensor.wrap(LibTorch.conv2d(x.handle(), weight.handle(), Tensor.handleOrNull(bias), pair(stride, "stride"),
                pair(padding, "padding"), pair(dilation, "dilation"), groups));
        if (FlopCounter.active()) FlopCounter.conv2d(out, weight);
        return out;
    }

    public static Tensor convTranspose2d(Tensor x, Tensor weight, Tensor bias, long[] stride, long[] padding,
                                         long[] outputPadding, long[] dilation, long groups) {
        Tensor out = Tensor.wrap(LibTorch.convTranspose2d(x.handle(), weight.handle(), Tensor.handleOrNull(bias),
                pair(stride, "stride"), pair(padding, "padding"), pair(outputPadding, "outputPadding"),
                pair(dilation, "dilation"), groups));
        if (FlopCounter.active()) FlopCounter.convTranspose2d(x, weight);
        return out;
    }

    public static Tensor avgPool2d(Tensor x, long kernel, long stride) {
        return Tensor.wrap(LibTorch.avgPool2d(x.handle(), new long[] {kernel, kernel}, new long[] {stride, stride}));
    }

    public static Tensor pixelShuffle(Tensor x, long factor) {
        return Tensor.wrap(LibTorch.pixelShuffle(x.handle(), factor));
    }

    public static Tensor pixelUnshuffle(Tensor x, long factor) {
        return Tensor.wrap(LibTorch.pixelUnshuffle(x.handle(), factor));
    }

    /** Interpolation modes for {@link #interpolate}. */
    public enum Interpolation { NEAREST, BILINEAR, BICUBIC }

    /** Resizes [N, C, H, W] to [N, C, outH, outW]. */
    public static Tensor interpolate(Tensor x, long outH, long outW, Interpolation mode, boolean alignCorners) {
        return Tensor.wrap(LibTorch.interpolate(x.handle(), outH, outW, mode.ordinal(), alignCorners ? 1 : 0));
    }

    /** Rows of weight picked by integer indices. */
    public static Tensor embedding(Tensor weight, Tensor indices) {
        return Tensor.wrap(LibTorch.embedding(weight.handle(), indices.handle()));
    }

    public static Tensor dropout(Tensor x, double p, boolean train) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        return Tensor.wrap(LibTorch.dropout(x.handle(), p, train ? 1 : 0));
    }

    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        return Tensor.wrap(LibTorch.mseLoss(input.handle(), target.handle(), reduction.ordinal()));
    }

    /** Cross-entropy of logits [N, C] against int64 class indices [N]. */
    public static Tensor crossEntropy(Tensor logits, Tensor target, Reduction reduction, double labelSmoothing) {
        return Tensor.wrap(LibTorch.crossEntropy(logits.handle(), target.handle(), reduction.ordinal(), labelSmoothing));
    }

    private static long[] pair(long[] values, String name) {
        if (values == null || values.length != 2) {
            throw new IllegalArgumentException(name + " must have 2 values (height, width), got "
                    + java.util.Arrays.toString(values));
        }
        return values;
    }
}
