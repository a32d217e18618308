package dev.dit4j.models.microdit;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;

/**
 * MicroDiT's self-attention: qkv Linear(dim -> 3 hidden) laid out [q | k | v], each head-major;
 * q and k are layer-normed over all heads at once (no affine, eps 1e-6) before the split into
 * heads of {@code hidden / heads}; SDPA; proj Linear(hidden -> dim). No biases. Keys {@code qkv},
 * {@code proj}. Init: qkv trunc-normal 0.02, proj by {@code projInit}.
 */
public final class QkNormAttention extends Module {
    static final double NORM_EPS = 1e-6;
    private final Linear qkv;
    private final Linear proj;
    private final long hidden;
    private final long heads;

    public QkNormAttention(VarBuilder vb, long dim, long hidden, long heads, Init projInit) {
        super(vb);
        if (heads <= 0 || hidden % heads != 0) throw new IllegalArgumentException("attention width " + hidden + " is not divisible by " + heads + " heads");
        this.hidden = hidden;
        this.heads = heads;
        qkv = registerModule("qkv", Linear.of(dim, 3 * hidden).withBias(false).withWeightInit(Init.truncNormal(0.02)));
        proj = registerModule("proj", Linear.of(hidden, dim).withBias(false).withWeightInit(projInit));
    }

    /** x [N, L, dim] -> [N, L, dim]. */
    public Tensor forward(Tensor x) {
        long n = x.size(0), l = x.size(1);
        try (TensorScope s = TensorScope.open()) {
            Tensor qkvOut = qkv.forward(x);
            Tensor q = jointNorm(qkvOut.narrow(2, 0, hidden));
            Tensor k = jointNorm(qkvOut.narrow(2, hidden, hidden));
            Tensor v = qkvOut.narrow(2, 2 * hidden, hidden);
            return s.keep(proj.forward(attend(q, k, v, heads)));
        }
    }

    /** Layer norm over the whole [.., hidden] vector of every head together, no affine. */
    static Tensor jointNorm(Tensor x) {
        return Functional.layerNorm(x, new long[] {x.size(-1)}, null, null, NORM_EPS);
    }

    /** SDPA of q [N, L, H*e] against k, v [N, S, H*e] split into {@code heads}; -> [N, L, H*e]. */
    static Tensor attend(Tensor q, Tensor k, Tensor v, long heads) {
        try (TensorScope s = TensorScope.open()) {
            long n = q.size(0), l = q.size(1), src = k.size(1), hidden = q.size(2), e = hidden / heads;
            Tensor qh = q.reshape(n, l, heads, e).transpose(1, 2);
            Tensor kh = k.reshape(n, src, heads, e).transpose(1, 2);
            Tensor vh = v.reshape(n, src, heads, e).transpose(1, 2);
            Tensor out = Functional.scaledDotProductAttention(qh, kh, vh);
            return s.keep(out.transpose(1, 2).reshape(n, l, hidden));
        }
    }
}
