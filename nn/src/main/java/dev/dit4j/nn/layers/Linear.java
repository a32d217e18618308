package dev.dit4j.nn.layers;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.VarBuilder;
import io.soabase.recordbuilder.core.RecordBuilder;

/** y = x W^T + b; parameters {@code weight} [out, in] and {@code bias} [out]. */
public final class Linear extends Module {
    /**
     * A Linear in -> out. The initialisers default to PyTorch's (a null bias initialiser means
     * U(+-1/sqrt(in)), as nn.Linear's).
     */
    @RecordBuilder
    public record Options(long in, long out, boolean bias, Init weightInit, Init biasInit)
            implements ModuleSpec<Linear>, LinearOptionsBuilder.With {
        /** xavier_uniform weight, zero bias (DiT, U-DiT). */
        public Options xavier() {
            return withWeightInit(Init.xavierUniform()).withBiasInit(Init.zeros());
        }

        /** trunc_normal(std) weight, zero bias (U-ViT's _init_weights). */
        public Options truncNormal(double std) {
            return withWeightInit(Init.truncNormal(std)).withBiasInit(Init.zeros());
        }

        /** Zero weight and bias (adaLN-Zero modulation, final layers). */
        public Options zero() {
            return withWeightInit(Init.zeros()).withBiasInit(Init.zeros());
        }

        @Override
        public Linear build(VarBuilder vb) {
            return new Linear(vb, this);
        }
    }

    public static Options of(long in, long out) {
        return new Options(in, out, true, Init.pytorchDefault(), null);
    }

    private final Tensor weight;
    private final Tensor bias;

    public Linear(VarBuilder vb, Options o) {
        super(vb);
        this.weight = registerParameter("weight", new long[] {o.out(), o.in()}, o.weightInit());
        this.bias = o.bias() ? registerParameter("bias", new long[] {o.out()},
                o.biasInit() != null ? o.biasInit() : Init.uniform(1 / Math.sqrt(o.in()))) : null;
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public Tensor forward(Tensor x) {
        return Functional.linear(x, weight, bias);
    }

    /** GELU-tanh(forward(x)), one op where libtorch fuses them (see {@link Functional#linearGeluTanh}). */
    public Tensor forwardGeluTanh(Tensor x) {
        return Functional.linearGeluTanh(x, weight, bias);
    }
}
