package dev.dit4j.models.text;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Embedding;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import java.util.List;

/**
 * CLIP's text transformer under open_clip's names: {@code token_embedding}, {@code positional_embedding},
 * {@code transformer.resblocks.N.{ln_1, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj, ln_2,
 * mlp.c_fc, mlp.c_proj}}, {@code ln_final} and, when the file has it, {@code text_projection}
 * [width, projectionDim] for the pooled feature.
 */
public final class OpenClipTextTower extends ClipTextEncoder {
    private final Embedding tokenEmbedding;
    private final Tensor positionalEmbedding;
    private final List<ResidualBlock> blocks;
    private final LayerNorm lnFinal;
    private final Tensor textProjection;

    public OpenClipTextTower(VarBuilder vb, ClipTextConfig c) {
        super(vb, c);
        tokenEmbedding = registerModule("token_embedding", Embedding.of(c.vocabSize(), c.width()).withInit(Init.normal(0.02)));
        positionalEmbedding = registerParameter("positional_embedding", new long[] {c.contextLength(), c.width()}, Init.normal(0.01));
        ModuleList<ResidualBlock> list = registerModule("transformer.resblocks", ModuleList::new);
        for (int i = 0; i < c.layers(); i++) list.add(p -> new ResidualBlock(p, this));
        blocks = list.items();
        lnFinal = registerModule("ln_final", LayerNorm.of(c.width()).withEps(c.eps()));
        textProjection = c.projectionDim() > 0
                ? registerParameter("text_projection", new long[] {c.width(), c.projectionDim()}, Init.normal(Math.pow(c.width(), -0.5)))
                : null;
    }

    /** The tokens after ln_final, as MicroDiT takes them (open_clip's encode_text before pooling). */
    @Override
    public Tensor forward(Tensor ids) {
        checkIds(ids);
        try (TensorScope s = TensorScope.open()) {
            Tensor x = tokenEmbedding.forward(ids).add(positionalEmbedding.narrow(0, 0, ids.size(1)));
            for (ResidualBlock b : blocks) x = b.forward(x);
            return s.keep(lnFinal.forward(x));
        }
    }

    /** open_clip's encode_text: the token at the largest id (the end token), times text_projection when present. */
    @Override
    public Tensor pooled(Tensor ids, Tensor lastHidden) {
        try (TensorScope s = TensorScope.open()) {
            Tensor x = at(lastHidden, ids.argmax(-1, false));
            return s.keep(textProjection == null ? x : x.matmul(textProjection));
        }
    }

    /** x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
    static final class ResidualBlock extends Module {
        private final ClipTextEncoder owner;
        private final LayerNorm ln1, ln2;
        private final Attention attn;
        private final Linear cFc, cProj;

        ResidualBlock(VarBuilder vb, ClipTextEncoder owner) {
            super(vb);
            this.owner = owner;
            ClipTextConfig c = owner.config();
            int d = c.width();
            ln1 = registerModule("ln_1", LayerNorm.of(d).withEps(c.eps()));
            attn = registerModule("attn", p -> new Attention(p, owner));
            ln2 = registerModule("ln_2", LayerNorm.of(d).withEps(c.eps()));
            cFc = registerModule("mlp.c_fc", Linear.of(d, c.mlpWidth()));
            cProj = registerModule("mlp.c_proj", Linear.of(c.mlpWidth(), d));
        }

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                x = x.add(attn.forward(ln1.forward(x)));
                return s.keep(x.add(cProj.forward(owner.config().activation().apply(cFc.forward(ln2.forward(x))))));
            }
        }
    }

    /** nn.MultiheadAttention's layout: q, k, v from one packed {@code in_proj_weight} [3 width, width] and {@code in_proj_bias}, then {@code out_proj}. */
    static final class Attention extends Module {
        private final ClipTextEncoder owner;
        private final Tensor inProjWeight, inProjBias;
        private final Linear outProj;

        Attention(VarBuilder vb, ClipTextEncoder owner) {
            super(vb);
            this.owner = owner;
            int d = owner.config().width();
            inProjWeight = registerParameter("in_proj_weight", new long[] {3L * d, d}, Init.xavierUniform());
            inProjBias = registerParameter("in_proj_bias", new long[] {3L * d}, Init.zeros());
            outProj = registerModule("out_proj", Linear.of(d, d).withBiasInit(Init.zeros()));
        }

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                List<Tensor> qkv = Functional.linear(x, inProjWeight, inProjBias).chunk(3, -1);
                return s.keep(outProj.forward(owner.causalAttention(qkv.get(0), qkv.get(1), qkv.get(2))));
            }
        }
    }
}
