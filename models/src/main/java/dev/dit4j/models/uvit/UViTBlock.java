package dev.dit4j.models.uvit;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.Mlp;
import dev.dit4j.nn.layers.SelfAttention;
import java.util.List;

/**
 * U-ViT's transformer block: pre-LN attention and MLP with no conditioning modulation; an
 * out-block first fuses the long skip with Linear(2D -> D) over [x | skip]. Keys norm1, attn.qkv,
 * attn.proj, norm2, mlp.fc1, mlp.fc2 and skip_linear, registered in the authors' order; every
 * Linear initialised as the authors' _init_weights (trunc-normal std 0.02, zero bias).
 */
public final class UViTBlock extends Module {
    /**
     * A block's width, heads, MLP ratio and qkv bias.
     *
     * @param skip whether this is an out-block taking a long skip (adds {@code skip_linear})
     */
    public record Options(int dim, int heads, double mlpRatio, boolean qkvBias, boolean skip) implements ModuleSpec<UViTBlock> {
        @Override
        public UViTBlock build(VarBuilder vb) {
            return new UViTBlock(vb, this);
        }
    }

    private final LayerNorm norm1;
    private final SelfAttention attn;
    private final LayerNorm norm2;
    private final Mlp mlp;
    private final Linear skipLinear;

    public UViTBlock(VarBuilder vb, Options o) {
        super(vb);
        int d = o.dim();
        norm1 = registerModule("norm1", LayerNorm.of(d));
        attn = registerModule("attn", SelfAttention.of(d, o.heads()).withQkvBias(o.qkvBias()).withLinears(l -> l.truncNormal(0.02)));
        norm2 = registerModule("norm2", LayerNorm.of(d));
        mlp = registerModule("mlp", Mlp.of(d, (long) (d * o.mlpRatio())).withLinears(l -> l.truncNormal(0.02)));
        skipLinear = o.skip() ? registerModule("skip_linear", Linear.of(2L * d, d).truncNormal(0.02)) : null;
    }

    /** Whether this block fuses a long skip. */
    public boolean takesSkip() {
        return skipLinear != null;
    }

    /** An in- or mid-block: [N, L, D] -> [N, L, D]. */
    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /** An out-block takes the matching in-block's output as {@code skip}; other blocks take null. */
    public Tensor forward(Tensor x, Tensor skip) {
        if ((skip != null) != takesSkip()) {
            throw new IllegalArgumentException(takesSkip() ? "an out-block needs its skip input" : "this block takes no skip input");
        }
        try (TensorScope s = TensorScope.open()) {
            Tensor h = skip == null ? x : skipLinear.forward(Tensor.cat(List.of(x, skip), 2));
            h = h.add(attn.forward(norm1.forward(h)));
            h = h.add(mlp.forward(norm2.forward(h)));
            return s.keep(h);
        }
    }
}
