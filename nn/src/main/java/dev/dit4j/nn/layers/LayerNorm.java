package dev.dit4j.nn.layers;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.VarBuilder;
import io.soabase.recordbuilder.core.RecordBuilder;

/** Layer norm over the last dim, with {@code weight} and {@code bias} unless built without them (or with a weight only). */
public final class LayerNorm extends Module {
    /** A layer norm's width, eps and which of {@code weight} and {@code bias} it has. */
    @RecordBuilder
    public record Options(long dim, double eps, boolean affine, boolean bias) implements ModuleSpec<LayerNorm>, LayerNormOptionsBuilder.With {
        /** No weight and bias (DiT's norms, which adaLN modulates). */
        public Options noAffine() {
            return withAffine(false);
        }

        /** A weight but no bias (nn.LayerNorm(dim, bias=False): MicroDiT's norms). */
        public Options noBias() {
            return withBias(false);
        }

        @Override
        public LayerNorm build(VarBuilder vb) {
            return new LayerNorm(vb, this);
        }
    }

    /** eps 1e-5 with weight and bias, as nn.LayerNorm(dim). */
    public static Options of(long dim) {
        return new Options(dim, 1e-5, true, true);
    }

    private final long[] shape;
    private final double eps;
    private final Tensor weight;
    private final Tensor bias;

    public LayerNorm(VarBuilder vb, Options o) {
        super(vb);
        this.shape = new long[] {o.dim()};
        this.eps = o.eps();
        this.weight = o.affine() ? registerParameter("weight", shape, Init.ones()) : null;
        this.bias = o.affine() && o.bias() ? registerParameter("bias", shape, Init.zeros()) : null;
    }

    public Tensor forward(Tensor x) {
        return Functional.layerNorm(x, shape, weight, bias, eps);
    }
}
