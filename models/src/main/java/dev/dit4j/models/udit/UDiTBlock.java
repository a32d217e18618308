package dev.dit4j.models.udit;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Sequential;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.layers.Linear;
import java.util.List;

/**
 * The authors' {@code U_DiTBlock} at width D on [N, D, H, W]: two adaLN-Zero halves in sequence,
 * half k with its own {@code attn{k}} (downsampled attention), {@code mlp{k}} (rep FFN) and
 * {@code adaLN_modulation{k}.1} (Linear D -> 6D on SiLU(c)); norms are channel LayerNorms, eps
 * 1e-6, without affine (no keys). Chunks: shift, scale, gate (attention), shift, scale, gate (FFN).
 */
public final class UDiTBlock extends Module {
    private final int dim;
    private final DownsampledAttention[] attn = new DownsampledAttention[2];
    private final RepFfn[] mlp = new RepFfn[2];
    private final Linear[] adaLN = new Linear[2];

    public UDiTBlock(int dim, int heads, double mlpRatio, int downFactor, DType dtype, Device device, Generator gen) {
        this.dim = dim;
        for (int k = 0; k < 2; k++) {
            attn[k] = registerModule("attn" + (k + 1), new DownsampledAttention(dim, heads, downFactor, 5, dtype, device, gen));
            mlp[k] = registerModule("mlp" + (k + 1), new RepFfn(dim, mlpRatio, dtype, device, gen));
            adaLN[k] = registerModule("adaLN_modulation" + (k + 1), new Sequential())
                    .add(1, new Linear(dim, 6L * dim, true, dtype, device, gen)).zero();
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
                List<Tensor> m = adaLN[k].forward(act).chunk(6, 1);
                Tensor a = attn[k].forward(modulate(layerNorm2d(h), m.get(0), m.get(1)));
                h = h.add(spatial(m.get(2)).mul(a));
                Tensor f = mlp[k].forward(modulate(layerNorm2d(h), m.get(3), m.get(4)));
                h = h.add(spatial(m.get(5)).mul(f));
            }
            return scope.keep(h);
        }
    }

    /** LayerNorm over the channels of [N, C, H, W], eps 1e-6, no affine (the authors' LayerNorm2d). */
    public static Tensor layerNorm2d(Tensor x) {
        try (Tensor nhwc = x.permute(0, 2, 3, 1);
             Tensor n = Functional.layerNorm(nhwc, new long[] {x.size(1)}, null, null, 1e-6)) {
            return n.permute(0, 3, 1, 2);
        }
    }

    /** x * (1 + scale) + shift with per-sample [N, C] scale and shift broadcast over H, W. */
    public static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(x.mul(spatial(scale).add(1)).add(spatial(shift)));
        }
    }

    private static Tensor spatial(Tensor v) {
        return v.unsqueeze(-1).unsqueeze(-1);
    }
}
