package dev.dit4j.models.udit;

import dev.dit4j.models.embed.AdaLnZero;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;

/**
 * The authors' {@code U_DiTBlock} at width D on [N, D, H, W]: two adaLN-Zero halves in sequence,
 * half k with its own {@code attn{k}} (downsampled attention), {@code mlp{k}} (rep FFN) and
 * {@code adaLN_modulation{k}.1} (Linear D -> 6D on SiLU(c)); norms are channel LayerNorms, eps
 * 1e-6, without affine (no keys).
 */
public final class UDiTBlock extends Module {
    /** A block's width, heads, FFN ratio and the attention's downsampling factor. */
    public record Options(int dim, int heads, double mlpRatio, int downFactor) implements ModuleSpec<UDiTBlock> {
        @Override
        public UDiTBlock build(VarBuilder vb) {
            return new UDiTBlock(vb, this);
        }
    }

    private final DownsampledAttention[] attn = new DownsampledAttention[2];
    private final RepFfn[] mlp = new RepFfn[2];
    private final Linear[] adaLN = new Linear[2];

    public UDiTBlock(VarBuilder vb, Options o) {
        super(vb);
        for (int k = 0; k < 2; k++) {
            attn[k] = registerModule("attn" + (k + 1), p -> new DownsampledAttention(p, o.dim(), o.heads(), o.downFactor(), 5));
            mlp[k] = registerModule("mlp" + (k + 1), p -> new RepFfn(p, o.dim(), o.mlpRatio()));
            adaLN[k] = registerModule("adaLN_modulation" + (k + 1) + ".1", Linear.of(o.dim(), 6L * o.dim()).zero());
        }
    }

    public DownsampledAttention attention(int half) {
        return attn[half];
    }

    public RepFfn ffn(int half) {
        return mlp[half];
    }

    /** x [N, D, H, W], c [N, D] -> [N, D, H, W]. */
    public Tensor forward(Tensor x, Tensor c) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor h = x;
            Tensor act = c.silu();
            for (int k = 0; k < 2; k++) {
                AdaLnZero m = AdaLnZero.of(adaLN[k].forward(act));
                // the gated residual h + gate * branch as one addcmul (Functional.gatedResidual takes tokens, not maps)
                h = h.addcmul(spatial(m.gateMsa()), attn[k].forward(modulate(layerNorm2d(h), m.shiftMsa(), m.scaleMsa())));
                h = h.addcmul(spatial(m.gateMlp()), mlp[k].forward(modulate(layerNorm2d(h), m.shiftMlp(), m.scaleMlp())));
            }
            return scope.keep(h);
        }
    }

    /** LayerNorm over the channels of [N, C, H, W], eps 1e-6, no affine (the authors' LayerNorm2d). */
    public static Tensor layerNorm2d(Tensor x) {
        try (TensorScope scope = TensorScope.open()) {
            Tensor n = Functional.layerNorm(x.permute(0, 2, 3, 1), new long[] {x.size(1)}, null, null, 1e-6);
            return scope.keep(n.permute(0, 3, 1, 2));
        }
    }

    /** x [N, C, H, W] modulated by per-sample shift and scale [N, C]. */
    public static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        return AdaLnZero.modulate(x, spatial(shift), spatial(scale));
    }

    private static Tensor spatial(Tensor v) {
        return v.unsqueeze(-1).unsqueeze(-1);
    }
}
