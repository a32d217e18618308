package dev.dit4j.nn.layers;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;

/** Parameter initialisers with torch.nn.init's definitions (fans as PyTorch computes them). */
public final class Init {
    private Init() {}

    /** fan_in and fan_out of a Linear [out, in] or Conv [out, in/groups, kh, kw] weight. */
    static long[] fans(Tensor weight) {
        long[] s = weight.shape();
        if (s.length < 2) throw new IllegalArgumentException("fan in/out needs a weight of at least 2 dims, got " + s.length);
        long receptive = 1;
        for (int i = 2; i < s.length; i++) receptive *= s[i];
        return new long[] {s[1] * receptive, s[0] * receptive};
    }

    public static Tensor xavierUniform(Tensor weight, Generator gen) {
        long[] f = fans(weight);
        double bound = Math.sqrt(6.0 / (f[0] + f[1]));
        try (var g = Autograd.noGrad()) {
            return weight.uniform_(-bound, bound, gen);
        }
    }

    public static Tensor normal(Tensor t, double std, Generator gen) {
        try (var g = Autograd.noGrad()) {
            return t.normal_(0, std, gen);
        }
    }

    /** N(0, std) truncated at [-2, 2] absolute, as timm's trunc_normal_(std=...) does. */
    public static Tensor truncNormal(Tensor t, double std, Generator gen) {
        try (var g = Autograd.noGrad()) {
            return t.truncNormal_(0, std, -2, 2, gen);
        }
    }

    public static Tensor zeros(Tensor t) {
        try (var g = Autograd.noGrad()) {
            return t.zero_();
        }
    }

    /** PyTorch's default Linear/Conv init: kaiming_uniform(a=sqrt 5) weight, uniform(+-1/sqrt fan_in) bias. */
    public static void pytorchDefault(Tensor weight, Tensor bias, Generator gen) {
        long fanIn = fans(weight)[0];
        double bound = 1 / Math.sqrt(fanIn);
        try (var g = Autograd.noGrad()) {
            weight.uniform_(-bound, bound, gen); // kaiming_uniform with a = sqrt(5) reduces to this bound
            if (bias != null) bias.uniform_(-bound, bound, gen);
        }
    }
}
