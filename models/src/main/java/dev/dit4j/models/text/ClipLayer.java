package dev.dit4j.models.text;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Gelu;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.Mlp;

/**
 * One layer of transformers' CLIP encoder, the same in the text and the vision tower:
 * x + attn(layer_norm1(x)), then x + mlp(layer_norm2(x)); the tower supplies the attention
 * (causal for text, full for images).
 */
final class ClipLayer extends Module {
    /** Scaled dot-product attention over projected queries, keys and values [N, T, D]. */
    @FunctionalInterface
    interface Attention {
        Tensor apply(Tensor q, Tensor k, Tensor v);
    }

    private final Attention attention;
    private final Linear q, k, v, out;
    private final LayerNorm norm1, norm2;
    private final Mlp mlp;

    ClipLayer(VarBuilder vb, int width, int mlpWidth, Gelu activation, double eps, Attention attention) {
        super(vb);
        this.attention = attention;
        q = registerModule("self_attn.q_proj", Linear.of(width, width));
        k = registerModule("self_attn.k_proj", Linear.of(width, width));
        v = registerModule("self_attn.v_proj", Linear.of(width, width));
        out = registerModule("self_attn.out_proj", Linear.of(width, width));
        norm1 = registerModule("layer_norm1", LayerNorm.of(width).withEps(eps));
        mlp = registerModule("mlp", Mlp.of(width, mlpWidth).withGelu(activation));
        norm2 = registerModule("layer_norm2", LayerNorm.of(width).withEps(eps));
    }

    Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor h = norm1.forward(x);
            x = x.add(out.forward(attention.apply(q.forward(h), k.forward(h), v.forward(h))));
            return s.keep(x.add(mlp.forward(norm2.forward(x))));
        }
    }
}
