package dev.dit4j.models.udit;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.SdpaBackend;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Linear;
import java.util.List;

/**
 * U-DiT's downsampled self-attention (the authors' {@code DownSample_Attn} with
 * attn 'v2', RoPE2D and a 'dwconv5' downsampler with shortcut), on [N, D, H, W] feature maps.
 *
 * <p>u = x + DWConv5(x); u is split into its f*f polyphase sub-images (sub-image a*f + b holds
 * pixels (f*i + a, f*j + b)), no token is discarded; one shared qkv projection, 2-d RoPE on q
 * and k, then cosine attention inside each sub-image: logits = cos(q, k) * exp(min(lambda_h,
 * ln 100)) with a learnable per-head lambda ({@code logit_scale}, initialised ln 10). The
 * sub-image outputs are put back at their pixels and mixed by a 1x1 conv ({@code to_out}).
 * Attention runs through SDPA: q and k are L2-normalised, q is multiplied by the clamped
 * exp(lambda) and SDPA is called with scale 1.
 *
 * <p>Keys: {@code logit_scale} [heads, 1, 1], {@code to_qkv.*}, {@code to_out.*},
 * {@code downsampler.layer.*}.
 */
public final class DownsampledAttention extends Module {
    /** The authors' clamp on the learnable log scale (ln 100, written 4.6052 in their code). */
    public static final double MAX_LOG_SCALE = 4.6052;

    private final int dim;
    private final int heads;
    private final int factor;
    private final Tensor logitScale;
    private final Linear toQkv;
    private final Conv2d toOut;
    private final DwShortcut downsampler;
    private SdpaBackend backend = SdpaBackend.AUTO;
    private Rope2d rope;

    /**
     * @param dim     channels D (divisible by heads; D / heads divisible by 4 for RoPE)
     * @param factor  down factor f: attention runs in f*f sub-images of (H/f)(W/f) tokens
     * @param kernel  the depthwise downsampler's kernel (5 in U-DiT), odd
     */
    public DownsampledAttention(VarBuilder vb, int dim, int heads, int factor, int kernel) {
        super(vb);
        if (heads <= 0 || dim % heads != 0) throw new IllegalArgumentException("dim " + dim + " is not divisible by " + heads + " heads");
        if ((dim / heads) % 4 != 0) throw new IllegalArgumentException("head width " + dim / heads + " must be divisible by 4 for 2-d RoPE");
        if (factor < 1) throw new IllegalArgumentException("down factor must be >= 1, got " + factor);
        if (kernel % 2 == 0) throw new IllegalArgumentException("downsampler kernel must be odd, got " + kernel);
        this.dim = dim;
        this.heads = heads;
        this.factor = factor;
        this.logitScale = registerParameter("logit_scale", new long[] {heads, 1, 1}, Init.constant(Math.log(10)));
        this.toQkv = registerModule("to_qkv", Linear.of(dim, 3L * dim).xavier());
        this.toOut = registerModule("to_out", Conv2d.of(dim, dim, 1).xavier());
        this.downsampler = registerModule("downsampler", p -> new DwShortcut(p, dim, kernel));
    }

    public int dim() {
        return dim;
    }

    public int heads() {
        return heads;
    }

    public int factor() {
        return factor;
    }

    public Tensor logitScale() {
        return logitScale;
    }

    /** Pins the SDPA kernel (AUTO lets libtorch choose). */
    public void backend(SdpaBackend backend) {
        this.backend = backend;
    }

    /** x [N, D, H, W] (H and W divisible by the down factor) -> [N, D, H, W]. */
    public Tensor forward(Tensor x) {
        long[] s = x.shape();
        if (s.length != 4 || s[1] != dim) {
            throw new IllegalArgumentException("downsampled attention expects [N, " + dim + ", H, W], got " + java.util.Arrays.toString(s));
        }
        if (s[2] % factor != 0 || s[3] % factor != 0) {
            throw new IllegalArgumentException("feature map " + s[2] + "x" + s[3] + " is not divisible by the down factor " + factor);
        }
        long n = s[0], hh = s[2] / factor, ww = s[3] / factor, tokens = hh * ww, groups = (long) factor * factor;
        int hd = dim / heads;
        try (TensorScope scope = TensorScope.open()) {
            Tensor u = downsampler.forward(x);
            // [N, D, h, a, w, b] -> [N, a, b, h, w, D]: sub-image a*f + b, tokens row-major in (h, w).
            Tensor seq = u.view(n, dim, hh, factor, ww, factor).permute(0, 3, 5, 2, 4, 1).reshape(n * groups, tokens, dim);
            List<Tensor> qkv = toQkv.forward(seq).view(n * groups, tokens, 3, heads, hd).permute(2, 0, 3, 1, 4).unbind(0);
            Rope2d r = rope(hd, tokens, x.device());
            Tensor q = r.apply(qkv.get(0));
            Tensor k = r.apply(qkv.get(1));
            Tensor v = qkv.get(2);
            Tensor scale = logitScale.clampMax(MAX_LOG_SCALE).exp();
            Tensor qn = l2Normalize(q).mul(scale);
            Tensor kn = l2Normalize(k);
            Tensor att = Functional.scaledDotProductAttention(qn, kn, v, null, 0, false, 1.0, backend).output();
            // [N, a, b, heads, h, w, hd] -> [N, heads, hd, h, a, w, b] = [N, D, H, W].
            Tensor merged = att.view(n, factor, factor, heads, hh, ww, hd).permute(0, 3, 6, 4, 1, 5, 2).reshape(n, dim, s[2], s[3]);
            return scope.keep(toOut.forward(merged));
        }
    }

    private Rope2d rope(int hd, long tokens, Device device) {
        Rope2d r = rope;
        if (r == null || !r.fits(hd, tokens, device)) {
            if (r != null) r.close();
            r = new Rope2d(hd, tokens, device);
            rope = r;
        }
        return r;
    }

    /** F.normalize(x, dim=-1): x / max(||x||, 1e-12). */
    static Tensor l2Normalize(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(x.div(x.norm(2, new long[] {-1}, true).clampMin(1e-12)));
        }
    }

    @Override
    public void close() {
        super.close();
        if (rope != null) rope.close();
        rope = null;
    }

    /** u = x + depthwise conv(x) (key {@code layer}); the authors' DownSampler before the regrouping. */
    static final class DwShortcut extends Module {
        final Conv2d layer;

        DwShortcut(VarBuilder vb, int dim, int kernel) {
            super(vb);
            layer = registerModule("layer", Conv2d.of(dim, dim, kernel).samePadding().withGroups(dim).xavier());
        }

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                return s.keep(layer.forward(x).add(x));
            }
        }
    }
}
