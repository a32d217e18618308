package dev.dit4j.models.microdit;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;

/**
 * MicroDiT's deferred masking (the authors' get_mask, mask_out_token, unmask_tokens): per sample,
 * the tokens are ordered by argsort of uniform noise and the first int(T (1 - ratio)) are kept.
 * A mask is its {@code keep} indices [N, K] (int64, in that order).
 */
public final class TokenMask {
    private TokenMask() {}

    /** Tokens kept of {@code tokens} at mask ratio {@code ratio}: int(T (1 - ratio)). */
    public static long kept(long tokens, double ratio) {
        if (!(ratio >= 0 && ratio < 1)) throw new IllegalArgumentException("mask ratio must lie in [0, 1), got " + ratio);
        long k = (long) (tokens * (1 - ratio));
        if (k < 1) throw new IllegalArgumentException("mask ratio " + ratio + " keeps no token of " + tokens);
        return k;
    }

    /** Keep indices from given noise [N, T]: the first int(T (1 - ratio)) of argsort(noise) per sample. */
    public static Tensor fromNoise(Tensor noise, double ratio) {
        if (noise.dim() != 2) throw new IllegalArgumentException("mask noise must be [N, T]; got " + Arrays.toString(noise.shape()));
        try (TensorScope s = TensorScope.open()) {
            return s.keep(noise.argsort(1).narrow(1, 0, kept(noise.size(1), ratio)).contiguous());
        }
    }

    /** Keep indices for {@code n} samples of {@code tokens} tokens from uniform noise drawn from {@code gen}. */
    public static Tensor random(long n, long tokens, double ratio, dev.dit4j.nn.Device device, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(fromNoise(Tensor.rand(new long[] {n, tokens}, DType.FLOAT32, device, gen), ratio));
        }
    }

    /** The kept tokens of x [N, T, D]: [N, K, D]. */
    public static Tensor gather(Tensor x, Tensor keep) {
        check(x, keep);
        try (TensorScope s = TensorScope.open()) {
            return s.keep(x.gather(1, keep.unsqueeze(2).expand(keep.size(0), keep.size(1), x.size(2))));
        }
    }

    /** x [N, K, P] of the kept tokens back at their places among {@code tokens}, the others {@code fill} [P] (mask_token). */
    public static Tensor restore(Tensor x, Tensor keep, long tokens, Tensor fill) {
        try (TensorScope s = TensorScope.open()) {
            long n = x.size(0), p = x.size(2);
            Tensor base = fill.reshape(1, 1, p).to(x.dtype()).expand(n, tokens, p).contiguous();
            return s.keep(base.scatter(1, keep.unsqueeze(2).expand(n, keep.size(1), p), x));
        }
    }

    /** 1 for kept tokens, 0 for dropped: [N, T] in x's dtype (the loss averages over the 1s). */
    public static Tensor keptMask(Tensor keep, long tokens, DType dtype) {
        try (TensorScope s = TensorScope.open()) {
            Tensor zeros = Tensor.zeros(new long[] {keep.size(0), tokens}, dtype, keep.device());
            return s.keep(zeros.scatter(1, keep, Tensor.ones(keep.shape(), dtype, keep.device())));
        }
    }

    private static void check(Tensor x, Tensor keep) {
        if (keep.dim() != 2 || keep.size(0) != x.size(0) || keep.dtype() != DType.INT64) {
            throw new IllegalArgumentException("keep indices must be int64 [N, K] with N = " + x.size(0) + "; got " + keep.dtype() + " "
                    + Arrays.toString(keep.shape()));
        }
    }
}
