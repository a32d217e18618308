package dev.dit4j.nn;

/**
 * How a new parameter or buffer is filled, with torch.nn.init's definitions (fans as PyTorch
 * computes them). A {@link VarBuilder} applies it when it creates a tensor, never when it loads
 * one from a weight source.
 */
@FunctionalInterface
public interface Init {
    /** Fills {@code t} in place; autograd is off while it runs. Randomness comes from {@code gen}. */
    void fill(Tensor t, Generator gen);

    static Init zeros() {
        return (t, g) -> t.zero_();
    }

    static Init ones() {
        return constant(1);
    }

    static Init constant(double value) {
        return (t, g) -> t.fill_(value);
    }

    static Init normal(double std) {
        return (t, g) -> t.normal_(0, std, g);
    }

    /** N(0, std) cut at [-2, 2] absolute, as timm's trunc_normal_(std=...) does. */
    static Init truncNormal(double std) {
        return (t, g) -> t.truncNormal_(0, std, -2, 2, g);
    }

    static Init uniform(double bound) {
        return (t, g) -> t.uniform_(-bound, bound, g);
    }

    /** xavier_uniform_: U(+-sqrt(6 / (fan_in + fan_out))). */
    static Init xavierUniform() {
        return (t, g) -> {
            long[] f = fans(t.shape());
            double bound = Math.sqrt(6.0 / (f[0] + f[1]));
            t.uniform_(-bound, bound, g);
        };
    }

    /** xavier_uniform_ on the [out, in*k*k] view of a conv weight (DiT's patch embedding). */
    static Init xavierUniformFlat() {
        return (t, g) -> {
            try (Tensor flat = t.view(t.size(0), -1)) {
                xavierUniform().fill(flat, g);
            }
        };
    }

    /** PyTorch's default Linear/Conv weight: kaiming_uniform_(a = sqrt 5), which is U(+-1/sqrt(fan_in)). */
    static Init pytorchDefault() {
        return (t, g) -> {
            double bound = 1 / Math.sqrt(fans(t.shape())[0]);
            t.uniform_(-bound, bound, g);
        };
    }

    /** fan_in and fan_out of a Linear [out, in] or Conv [out, in/groups, kh, kw] weight. */
    static long[] fans(long[] shape) {
        if (shape.length < 2) throw new IllegalArgumentException("fan in/out needs a weight of at least 2 dims, got " + shape.length);
        long receptive = 1;
        for (int i = 2; i < shape.length; i++) receptive *= shape[i];
        return new long[] {shape[1] * receptive, shape[0] * receptive};
    }
}
