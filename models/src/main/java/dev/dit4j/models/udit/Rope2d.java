package dev.dit4j.models.udit;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/**
 * U-DiT's 2-d rotary position embedding for one head width and token count.
 * Token {@code idx} sits at column {@code idx mod s}, row {@code idx div s}, where
 * {@code s = floor(sqrt(n))} as the authors compute it (so a non-square grid is numbered as
 * they number it). Channel pairs (2m, 2m+1) are rotated by column angles for even m and row
 * angles for odd m, with frequencies 10000^(-4j/d). Holds its cos/sin tables; close it.
 */
public final class Rope2d implements AutoCloseable {
    private final int headDim;
    private final long tokens;
    private final Tensor cos;
    private final Tensor sin;

    /** Tables for {@code tokens} positions and heads of width {@code headDim} (a multiple of 4). */
    public Rope2d(int headDim, long tokens, Device device) {
        if (headDim % 4 != 0) throw new IllegalArgumentException("2-d RoPE needs a head width divisible by 4, got " + headDim);
        if (tokens <= 0 || tokens > Integer.MAX_VALUE / headDim) throw new IllegalArgumentException("bad token count " + tokens);
        this.headDim = headDim;
        this.tokens = tokens;
        int pairs = headDim / 2;
        int side = (int) Math.sqrt((double) tokens);
        float[] freqs = new float[headDim / 4];
        for (int j = 0; j < freqs.length; j++) freqs[j] = (float) (1.0 / Math.pow(10000.0, (4.0 * j) / headDim));
        float[] c = new float[(int) tokens * pairs];
        float[] s = new float[c.length];
        for (int idx = 0; idx < tokens; idx++) {
            int col = idx % side, row = idx / side;
            for (int m = 0; m < pairs; m++) {
                float angle = (m % 2 == 0 ? col : row) * freqs[m / 2]; // float32 like the authors' outer product
                c[idx * pairs + m] = (float) Math.cos(angle);
                s[idx * pairs + m] = (float) Math.sin(angle);
            }
        }
        try (Tensor ch = Tensor.of(c, tokens, pairs); Tensor sh = Tensor.of(s, tokens, pairs)) {
            this.cos = TensorScope.release(ch.to(device));
            this.sin = TensorScope.release(sh.to(device));
        }
    }

    public int headDim() {
        return headDim;
    }

    public long tokens() {
        return tokens;
    }

    public boolean fits(int headDim, long tokens, Device device) {
        return this.headDim == headDim && this.tokens == tokens && cos.device().equals(device);
    }

    /** Rotates x [..., tokens, headDim] (computed in float32, returned in x's dtype). */
    public Tensor apply(Tensor x) {
        long[] shape = x.shape();
        if (shape.length < 2 || shape[shape.length - 1] != headDim || shape[shape.length - 2] != tokens) {
            throw new IllegalArgumentException("RoPE tables are for [..., " + tokens + ", " + headDim + "], got "
                    + java.util.Arrays.toString(shape));
        }
        try (TensorScope scope = TensorScope.open()) {
            long[] pairShape = java.util.Arrays.copyOf(shape, shape.length + 1);
            pairShape[shape.length - 1] = headDim / 2;
            pairShape[shape.length] = 2;
            Tensor pairs = x.to(DType.FLOAT32).reshape(pairShape);
            Tensor re = pairs.select(-1, 0);
            Tensor im = pairs.select(-1, 1);
            Tensor outRe = re.mul(cos).sub(im.mul(sin));
            Tensor outIm = re.mul(sin).add(im.mul(cos));
            Tensor out = Tensor.stack(List.of(outRe, outIm), -1).reshape(shape).to(x.dtype());
            return scope.keep(out);
        }
    }

    @Override
    public void close() {
        cos.close();
        sin.close();
    }
}
