package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;

/** Neural-network functions (torch.nn.functional counterparts). */
public final class Functional {
    private Functional() {}

    /** x @ weight^T + bias (bias may be null). */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Tensor out = Tensor.compute(h -> LibTorch.linear(h[0], h[1], h[2]), x, weight, bias);
        if (FlopCounter.active()) FlopCounter.product(FlopCounter.Op.LINEAR, out, weight.size(-1));
        return out;
    }

    /**
     * GELU with the tanh approximation of {@code linear(x, weight, bias)}: on CUDA, when nothing
     * needs a gradient and autocast is off, one matmul whose epilogue applies the GELU; elsewhere
     * the two ops.
     */
    public static Tensor linearGeluTanh(Tensor x, Tensor weight, Tensor bias) {
        Tensor out = Tensor.compute(h -> LibTorch.linearGeluTanh(h[0], h[1], h[2]), x, weight, bias);
        if (FlopCounter.active()) FlopCounter.product(FlopCounter.Op.LINEAR, out, weight.size(-1));
        return out;
    }

    /** beta * input + alpha * (a @ b). */
    public static Tensor addmm(Tensor input, Tensor a, Tensor b, double beta, double alpha) {
        Tensor out = Tensor.compute(h -> LibTorch.addmm(h[0], h[1], h[2], beta, alpha), input, a, b);
        if (FlopCounter.active()) FlopCounter.product(FlopCounter.Op.ADDMM, out, a.size(-1));
        return out;
    }

    public static Tensor softmax(Tensor x, long dim) {
        return Tensor.compute(h -> LibTorch.softmax(h[0], dim), x);
    }

    public static Tensor logSoftmax(Tensor x, long dim) {
        return Tensor.compute(h -> LibTorch.logSoftmax(h[0], dim), x);
    }

    /** Layer norm over the trailing {@code normalizedShape}; weight and bias may be null (no affine). */
    public static Tensor layerNorm(Tensor x, long[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        Tensor out = Tensor.compute(h -> LibTorch.layerNorm(h[0], normalizedShape, h[1], h[2], eps), x, weight, bias);
        if (FlopCounter.active()) FlopCounter.layerNorm(out, weight != null);
        return out;
    }

    /**
     * adaLN's normalize-and-modulate as one op: layer norm of {@code x} [N, L, D] over D without
     * affine, then {@code * (1 + scale) + shift} with {@code shift}, {@code scale} [N, D] (one vector
     * per sample, broadcast over L). DiT uses eps 1e-6. Equal to
     * {@code layerNorm(x, {D}, null, null, eps)} followed by {@code shift.unsqueeze(1).addcmul(.., scale.unsqueeze(1).add(1))},
     * and differentiable in x, shift and scale. On CUDA, when the native library was built with its
     * fused kernels ({@link Torch#fusedKernelsBuilt()}), float32, bfloat16 and float16 run as one
     * kernel forward and one backward (statistics in float32, no second derivatives); under autocast
     * the result has the dtype the composite would have (float32, as layer norm runs in float32
     * there). Elsewhere the composite runs. Mixed floating dtypes promote as addcmul does.
     */
    public static Tensor lnModulate(Tensor x, Tensor shift, Tensor scale, double eps) {
        Tensor out = Tensor.compute(h -> LibTorch.lnModulate(h[0], h[1], h[2], eps), x, shift, scale);
        if (FlopCounter.active()) FlopCounter.layerNorm(out, false); // fvcore counts the norm, not the elementwise modulation
        return out;
    }

    /**
     * adaLN-Zero's gated residual {@code x + gate * y} as one op: {@code x}, {@code y} [N, L, D],
     * {@code gate} [N, D] (one vector per sample, broadcast over L); equal to
     * {@code x.addcmul(gate.unsqueeze(1), y)}, differentiable in all three. One kernel on CUDA when
     * the native library has its fused kernels (float32, bfloat16, float16), the addcmul elsewhere.
     */
    public static Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        return Tensor.compute(h -> LibTorch.gatedResidual(h[0], h[1], h[2]), x, gate, y);
    }

    public static Tensor groupNorm(Tensor x, long groups, Tensor weight, Tensor bias, double eps) {
        return Tensor.compute(h -> LibTorch.groupNorm(h[0], groups, h[1], h[2], eps), x, weight, bias);
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
        LibTorch.SdpaResult r = Tensor.callN(Tensor.Use.COMPUTE, new Tensor[] {q, k, v, mask},
                h -> LibTorch.sdpa(h[0], h[1], h[2], h[3], dropout, causal, scale, backend.code));
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
        Tensor out = Tensor.compute(h -> LibTorch.conv2d(h[0], h[1], h[2], pair(stride, "stride"),
                pair(padding, "padding"), pair(dilation, "dilation"), groups), x, weight, bias);
        if (FlopCounter.active()) FlopCounter.conv2d(out, weight);
        return out;
    }

    public static Tensor convTranspose2d(Tensor x, Tensor weight, Tensor bias, long[] stride, long[] padding,
                                         long[] outputPadding, long[] dilation, long groups) {
        Tensor out = Tensor.compute(h -> LibTorch.convTranspose2d(h[0], h[1], h[2],
                pair(stride, "stride"), pair(padding, "padding"), pair(outputPadding, "outputPadding"),
                pair(dilation, "dilation"), groups), x, weight, bias);
        if (FlopCounter.active()) FlopCounter.convTranspose2d(x, weight);
        return out;
    }

    public static Tensor avgPool2d(Tensor x, long kernel, long stride) {
        return Tensor.compute(h -> LibTorch.avgPool2d(h[0], new long[] {kernel, kernel}, new long[] {stride, stride}), x);
    }

    public static Tensor pixelShuffle(Tensor x, long factor) {
        return Tensor.compute(h -> LibTorch.pixelShuffle(h[0], factor), x);
    }

    public static Tensor pixelUnshuffle(Tensor x, long factor) {
        return Tensor.compute(h -> LibTorch.pixelUnshuffle(h[0], factor), x);
    }

    /** Interpolation modes for {@link #interpolate}. */
    public enum Interpolation { NEAREST, BILINEAR, BICUBIC }

    /** Resizes [N, C, H, W] to [N, C, outH, outW]. */
    public static Tensor interpolate(Tensor x, long outH, long outW, Interpolation mode, boolean alignCorners) {
        return Tensor.compute(h -> LibTorch.interpolate(h[0], outH, outW, mode.ordinal(), alignCorners ? 1 : 0), x);
    }

    /** Rows of weight picked by integer indices. */
    public static Tensor embedding(Tensor weight, Tensor indices) {
        return Tensor.compute(h -> LibTorch.embedding(h[0], h[1]), weight, indices);
    }

    public static Tensor dropout(Tensor x, double p, boolean train) {
        if (p < 0 || p > 1) throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        if (!train || p == 0) return x.share(); // libtorch returns the input itself: keep it a view of x
        return Tensor.compute(h -> LibTorch.dropout(h[0], p, 1), x);
    }

    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        return Tensor.compute(h -> LibTorch.mseLoss(h[0], h[1], reduction.ordinal()), input, target);
    }

    /** Cross-entropy of logits [N, C] against int64 class indices [N]. */
    public static Tensor crossEntropy(Tensor logits, Tensor target, Reduction reduction, double labelSmoothing) {
        return Tensor.compute(h -> LibTorch.crossEntropy(h[0], h[1], reduction.ordinal(), labelSmoothing), logits, target);
    }

    private static long[] pair(long[] values, String name) {
        if (values == null || values.length != 2) {
            throw new IllegalArgumentException(name + " must have 2 values (height, width), got "
                    + java.util.Arrays.toString(values));
        }
        return values;
    }
}
