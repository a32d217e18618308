package dev.dit4j.models.text;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import java.util.List;

/**
 * CLIP's image tower under open_clip's names (its VisionTransformer, a model's {@code visual.}):
 * {@code conv1}, {@code class_embedding}, {@code positional_embedding}, {@code ln_pre},
 * {@code transformer.resblocks.N.{ln_1, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj, ln_2,
 * mlp.c_fc, mlp.c_proj}}, {@code ln_post} and {@code proj} [width, embed]: class-token pooling
 * ({@code pool_type 'tok'}), ln_post before it.
 */
public final class OpenClipVisualTower extends ClipVisionEncoder {
    private final Conv2d conv1;
    private final Tensor classEmbedding, positionalEmbedding, proj;
    private final LayerNorm lnPre, lnPost;
    private final List<ResidualBlock> blocks;

    public OpenClipVisualTower(VarBuilder vb, ClipVisionConfig c) {
        super(vb, c);
        double scale = Math.pow(c.width(), -0.5);
        conv1 = registerModule("conv1", Conv2d.patchify(3, c.width(), c.patchSize()).withBias(false));
        classEmbedding = registerParameter("class_embedding", new long[] {c.width()}, Init.normal(scale));
        positionalEmbedding = registerParameter("positional_embedding", new long[] {c.tokens(), c.width()}, Init.normal(scale));
        lnPre = registerModule("ln_pre", LayerNorm.of(c.width()).withEps(c.eps()));
        ModuleList<ResidualBlock> list = registerModule("transformer.resblocks", ModuleList::new);
        for (int i = 0; i < c.layers(); i++) list.add(p -> new ResidualBlock(p, this));
        blocks = list.items();
        lnPost = registerModule("ln_post", LayerNorm.of(c.width()).withEps(c.eps()));
        proj = c.projectionDim() > 0 ? registerParameter("proj", new long[] {c.width(), c.projectionDim()}, Init.normal(scale)) : null;
    }

    @Override
    public Tensor hidden(Tensor pixels) {
        try (TensorScope s = TensorScope.open()) {
            Tensor x = lnPre.forward(tokens(pixels, conv1.weight(), classEmbedding, positionalEmbedding));
            for (ResidualBlock b : blocks) x = b.forward(x);
            return s.keep(x);
        }
    }

    /** ln_post of the class token, times proj. */
    @Override
    public Tensor embed(Tensor hidden) {
        try (TensorScope s = TensorScope.open()) {
            Tensor pooled = lnPost.forward(hidden.select(1, 0));
            return s.keep(proj == null ? pooled : pooled.matmul(proj));
        }
    }

    /** x + attn(ln_1(x)), then x + mlp(ln_2(x)), attention over all tokens. */
    static final class ResidualBlock extends Module {
        private final ClipVisionEncoder owner;
        private final LayerNorm ln1, ln2;
        private final Tensor inProjWeight, inProjBias;
        private final Linear outProj, cFc, cProj;

        ResidualBlock(VarBuilder vb, ClipVisionEncoder owner) {
            super(vb);
            this.owner = owner;
            ClipVisionConfig c = owner.config();
            int d = c.width();
            ln1 = registerModule("ln_1", LayerNorm.of(d).withEps(c.eps()));
            Attention attn = registerModule("attn", p -> new Attention(p, d));
            inProjWeight = attn.inProjWeight;
            inProjBias = attn.inProjBias;
            outProj = attn.outProj;
            ln2 = registerModule("ln_2", LayerNorm.of(d).withEps(c.eps()));
            cFc = registerModule("mlp.c_fc", Linear.of(d, c.mlpWidth()));
            cProj = registerModule("mlp.c_proj", Linear.of(c.mlpWidth(), d));
        }

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                List<Tensor> qkv = Functional.linear(ln1.forward(x), inProjWeight, inProjBias).chunk(3, -1);
                x = x.add(outProj.forward(owner.attention(qkv.get(0), qkv.get(1), qkv.get(2))));
                return s.keep(x.add(cProj.forward(owner.config().activation().apply(cFc.forward(ln2.forward(x))))));
            }
        }
    }

    /** nn.MultiheadAttention's parameters: packed {@code in_proj_weight} [3 width, width], {@code in_proj_bias}, {@code out_proj}. */
    static final class Attention extends Module {
        final Tensor inProjWeight, inProjBias;
        final Linear outProj;

        Attention(VarBuilder vb, int d) {
            super(vb);
            inProjWeight = registerParameter("in_proj_weight", new long[] {3L * d, d}, Init.xavierUniform());
            inProjBias = registerParameter("in_proj_bias", new long[] {3L * d}, Init.zeros());
            outProj = registerModule("out_proj", Linear.of(d, d).withBiasInit(Init.zeros()));
        }
    }
}
