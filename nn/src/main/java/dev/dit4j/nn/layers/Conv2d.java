package dev.dit4j.nn.layers;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.VarBuilder;
import io.soabase.recordbuilder.core.RecordBuilder;

/** 2-d convolution; {@code weight} [out, in/groups, k, k], optional {@code bias} [out]. */
public final class Conv2d extends Module {
    /**
     * A k x k convolution in -> out. The initialisers default to PyTorch's (a null bias initialiser
     * means U(+-1/sqrt(fan_in)) of the weight, as nn.Conv2d's).
     */
    @RecordBuilder
    public record Options(long in, long out, long kernel, long stride, long padding, long groups, boolean bias,
                          Init weightInit, Init biasInit) implements ModuleSpec<Conv2d>, Conv2dOptionsBuilder.With {
        public Options {
            if (in % groups != 0 || out % groups != 0) {
                throw new IllegalArgumentException("channels in=" + in + " and out=" + out + " must divide by groups=" + groups);
            }
        }

        /** Padding (k - 1) / 2: the output keeps the input's size at stride 1. */
        public Options samePadding() {
            return withPadding((kernel - 1) / 2);
        }

        /** xavier_uniform weight, zero bias. */
        public Options xavier() {
            return withWeightInit(Init.xavierUniform()).withBiasInit(Init.zeros());
        }

        /** xavier_uniform on the weight's [out, in*k*k] view, zero bias (DiT's patch embedding). */
        public Options xavierFlat() {
            return withWeightInit(Init.xavierUniformFlat()).withBiasInit(Init.zeros());
        }

        public Options zero() {
            return withWeightInit(Init.zeros()).withBiasInit(Init.zeros());
        }

        @Override
        public Conv2d build(VarBuilder vb) {
            return new Conv2d(vb, this);
        }
    }

    /** Stride 1, no padding, one group, with bias, PyTorch's initialisation. */
    public static Options of(long in, long out, long kernel) {
        return new Options(in, out, kernel, 1, 0, 1, true, Init.pytorchDefault(), null);
    }

    /** A patch embedding: kernel and stride {@code patch}. */
    public static Options patchify(long in, long out, long patch) {
        return of(in, out, patch).withStride(patch);
    }

    private final Tensor weight;
    private final Tensor bias;
    private final Options options;

    public Conv2d(VarBuilder vb, Options o) {
        super(vb);
        this.options = o;
        long k = o.kernel();
        this.weight = registerParameter("weight", new long[] {o.out(), o.in() / o.groups(), k, k}, o.weightInit());
        long fanIn = o.in() / o.groups() * k * k;
        this.bias = o.bias() ? registerParameter("bias", new long[] {o.out()},
                o.biasInit() != null ? o.biasInit() : Init.uniform(1 / Math.sqrt(fanIn))) : null;
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public Options options() {
        return options;
    }

    public Tensor forward(Tensor x) {
        return Functional.conv2d(x, weight, bias, options.stride(), options.padding(), options.groups());
    }
}
