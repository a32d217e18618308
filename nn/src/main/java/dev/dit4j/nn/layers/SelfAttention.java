package dev.dit4j.nn.layers;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.SdpaBackend;
import dev.dit4j.nn.Tensor;

/**
 * Multi-head self-attention with a fused qkv projection laid out [q | k | v], each head-major
 * (timm's Attention: keys {@code qkv.*}, {@code proj.*}), computed with SDPA.
 */
public final class SelfAttention extends Module {
    private final Linear qkv;
    private final Linear proj;
    private final long heads;
    private SdpaBackend backend = SdpaBackend.AUTO;

    public SelfAttention(long dim, long heads, boolean qkvBias, DType dtype, Device device, Generator gen) {
        if (dim % heads != 0) throw new IllegalArgumentException("dim " + dim + " is not divisible by " + heads + " heads");
        this.heads = heads;
        this.qkv = registerModule("qkv", new Linear(dim, 3 * dim, qkvBias, dtype, device, gen));
        this.proj = registerModule("proj", new Linear(dim, dim, true, dtype, device, gen));
    }

    public Linear qkv() {
        return qkv;
    }

    public Linear proj() {
        return proj;
    }

    /** Pins the attention kernel (AUTO lets libtorch choose per shape). */
    public void backend(SdpaBackend backend) {
        this.backend = backend;
    }

    /** x: [N, L, D] -> [N, L, D]. */
    public Tensor forward(Tensor x) {
        long[] s = x.shape();
        long n = s[0], l = s[1], d = s[2];
        Tensor qkvHeads = qkv.forward(x).reshape(n, l, 3, heads, d / heads).permute(2, 0, 3, 1, 4);
        Tensor q = qkvHeads.select(0, 0);
        Tensor k = qkvHeads.select(0, 1);
        Tensor v = qkvHeads.select(0, 2);
        Tensor out = Functional.scaledDotProductAttention(q, k, v, null, 0, false, 0, backend).output();
        return proj.forward(out.transpose(1, 2).reshape(n, l, d));
    }
}
