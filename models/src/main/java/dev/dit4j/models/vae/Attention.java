package dev.dit4j.models.vae;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.GroupNorm;

/**
 * Single-head self-attention over all pixels, with a residual (LDM's AttnBlock): GroupNorm, q, k,
 * v and proj_out as 1x1 convolutions (the original layout's names and shapes; diffusers' linears
 * are reshaped to them at load), the attention itself through SDPA.
 */
final class Attention extends Module {
    private final GroupNorm norm;
    private final Conv2d q, k, v, projOut;

    Attention(VarBuilder vb, int channels, int groups) {
        super(vb);
        norm = registerModule("norm", AutoencoderKL.norm(groups, channels));
        q = registerModule("q", Conv2d.of(channels, channels, 1));
        k = registerModule("k", Conv2d.of(channels, channels, 1));
        v = registerModule("v", Conv2d.of(channels, channels, 1));
        projOut = registerModule("proj_out", Conv2d.of(channels, channels, 1));
    }

    Tensor forward(Tensor x) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        try (TensorScope s = TensorScope.open()) {
            Tensor tokens = norm.forward(x).flatten(2, 3).transpose(1, 2); // [N, HW, C]
            Tensor out = Functional.scaledDotProductAttention(
                    project(q, tokens, c).unsqueeze(1), project(k, tokens, c).unsqueeze(1), project(v, tokens, c).unsqueeze(1));
            Tensor mixed = project(projOut, out.squeeze(1), c); // [N, HW, C]
            return s.keep(mixed.transpose(1, 2).reshape(n, c, h, w).add_(x));
        }
    }

    /** A 1x1 convolution applied to tokens [N, L, C] as the linear it is. */
    private static Tensor project(Conv2d conv, Tensor tokens, long c) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(Functional.linear(tokens, conv.weight().view(c, c), conv.bias()));
        }
    }
}
