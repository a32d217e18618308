package dev.dit4j.models.uvit;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.layers.Init;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.Mlp;
import dev.dit4j.nn.layers.SelfAttention;
import java.util.List;

/**
 * U-ViT's transformer block: pre-LN attention and MLP with no conditioning modulation; an
 * out-block first fuses the long skip with Linear(2D -> D) over [x | skip]. Keys norm1, attn.qkv,
 * attn.proj, norm2, mlp.fc1, mlp.fc2 and skip_linear, registered in the authors' order.
 */
public final class UViTBlock extends Module {
    private final LayerNorm norm1;
    private final SelfAttention attn;
    private final LayerNorm norm2;
    private final Mlp mlp;
    private final Linear skipLinear;

    /**
     * @param skip whether this is an out-block taking a long skip (adds {@code skip_linear})
     */
    public UViTBlock(int dim, int heads, double mlpRatio, boolean qkvBias, boolean skip, DType dtype, Device device,
                     Generator gen) {
        norm1 = registerModule("norm1", new LayerNorm(dim, 1e-5, true, true, dtype, device));
        attn = registerModule("attn", new SelfAttention(dim, heads, qkvBias, dtype, device, gen));
        norm2 = registerModule("norm2", new LayerNorm(dim, 1e-5, true, true, dtype, device));
        mlp = registerModule("mlp", new Mlp(dim, (long) (dim * mlpRatio), false, dtype, device, gen));
        skipLinear = skip ? registerModule("skip_linear", new Linear(2L * dim, dim, true, dtype, device, gen)) : null;
        for (Linear l : skip ? List.of(attn.qkv(), attn.proj(), mlp.fc1(), mlp.fc2(), skipLinear)
                : List.of(attn.qkv(), attn.proj(), mlp.fc1(), mlp.fc2())) {
            truncNormalInit(l, gen);
        }
    }

    /** The authors' _init_weights for a Linear: weight trunc-normal std 0.02 (cut at +-2), bias 0. */
    public static void truncNormalInit(Linear linear, Generator gen) {
        Init.truncNormal(linear.weight(), 0.02, gen);
        if (linear.bias() != null) Init.zeros(linear.bias());
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
