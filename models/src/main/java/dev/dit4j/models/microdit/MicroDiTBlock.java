package dev.dit4j.models.microdit;

import dev.dit4j.models.embed.AdaLnZero;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;

/**
 * MicroDiT's DiTBlock (patch mixer and backbone alike), modulated by c through
 * Linear(GELU-tanh(c)) in DiT's chunk order:
 * x += gate_msa * SelfAttn(modulate(norm1 x)); x += CrossAttn(norm2 x, caption);
 * x += gate_mlp * FFN(modulate(norm3 x)). Norms have a weight and no bias (eps 1e-6).
 */
public final class MicroDiTBlock extends Module {
    /**
     * One block's widths: {@code qkvHidden} the self-attention width (heads of {@code headDim});
     * cross-attention stays {@code dim} wide; {@code ffnHidden} the rounded dense or expert hidden
     * width; {@code condDim} the width of c; {@code outStd} the std of the output projections.
     */
    public record Options(long dim, long headDim, long qkvHidden, long ffnHidden, boolean moe, int experts, double capacity,
                          long condDim, double outStd) implements ModuleSpec<MicroDiTBlock> {
        @Override
        public MicroDiTBlock build(VarBuilder vb) {
            return new MicroDiTBlock(vb, this);
        }
    }

    private final LayerNorm norm1, norm2, norm3;
    private final QkNormAttention attn;
    private final CrossAttention crossAttn;
    private final FeedForward mlp;
    private final Linear adaLN;

    public MicroDiTBlock(VarBuilder vb, Options o) {
        super(vb);
        long d = o.dim();
        norm1 = registerModule("norm1", norm(d));
        attn = registerModule("attn", p -> new QkNormAttention(p, d, o.qkvHidden(), o.qkvHidden() / o.headDim(), Init.truncNormal(o.outStd())));
        crossAttn = registerModule("cross_attn", p -> new CrossAttention(p, d, d / o.headDim(), o.outStd()));
        norm2 = registerModule("norm2", norm(d));
        norm3 = registerModule("norm3", norm(d));
        mlp = o.moe() ? registerModule("mlp", p -> new ExpertChoiceMoe(p, d, o.ffnHidden(), o.experts(), o.capacity(), o.outStd()))
                : registerModule("mlp", p -> new SwiGlu(p, d, o.ffnHidden(), o.outStd()));
        adaLN = registerModule("adaLN_modulation.1", Linear.of(o.condDim(), 6 * d).zero());
    }

    /** MicroDiT's norms: a weight, no bias, eps 1e-6. */
    public static LayerNorm.Options norm(long dim) {
        return LayerNorm.of(dim).withEps(1e-6).noBias();
    }

    /** x [N, L, dim], caption [N, S, dim], c [N, condDim] -> [N, L, dim]. */
    public Tensor forward(Tensor x, Tensor caption, Tensor c) {
        try (TensorScope s = TensorScope.open()) {
            AdaLnZero m = AdaLnZero.of(adaLN.forward(c.gelu(true)));
            x = Functional.gatedResidual(x, m.gateMsa(), attn.forward(AdaLnZero.modulateTokens(norm1.forward(x), m.shiftMsa(), m.scaleMsa())));
            x = x.add(crossAttn.forward(norm2.forward(x), caption));
            x = Functional.gatedResidual(x, m.gateMlp(), mlp.forward(AdaLnZero.modulateTokens(norm3.forward(x), m.shiftMlp(), m.scaleMlp())));
            return s.keep(x);
        }
    }
}
