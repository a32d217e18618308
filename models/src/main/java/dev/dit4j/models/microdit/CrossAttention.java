package dev.dit4j.models.microdit;

import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;

/**
 * MicroDiT's cross-attention from image tokens to caption tokens: q Linear(dim -> dim) on the
 * image, kv Linear(dim -> 2 dim) on the caption laid out [k | v]; q and k normed jointly over all
 * heads as in {@link QkNormAttention}; proj Linear(dim -> dim). No biases. Keys {@code q_linear},
 * {@code kv_linear}, {@code proj}.
 */
public final class CrossAttention extends Module {
    private final Linear q;
    private final Linear kv;
    private final Linear proj;
    private final long dim;
    private final long heads;

    public CrossAttention(VarBuilder vb, long dim, long heads, double projStd) {
        super(vb);
        if (heads <= 0 || dim % heads != 0) throw new IllegalArgumentException("cross-attention width " + dim + " is not divisible by " + heads + " heads");
        this.dim = dim;
        this.heads = heads;
        q = registerModule("q_linear", Linear.of(dim, dim).withBias(false).withWeightInit(Init.truncNormal(0.02)));
        kv = registerModule("kv_linear", Linear.of(dim, 2 * dim).withBias(false).withWeightInit(Init.truncNormal(0.02)));
        proj = registerModule("proj", Linear.of(dim, dim).withBias(false).withWeightInit(Init.truncNormal(projStd)));
    }

    /** x [N, L, dim] image tokens, caption [N, S, dim] -> [N, L, dim]. */
    public Tensor forward(Tensor x, Tensor caption) {
        try (TensorScope s = TensorScope.open()) {
            Tensor kvOut = kv.forward(caption);
            Tensor query = QkNormAttention.jointNorm(q.forward(x));
            Tensor key = QkNormAttention.jointNorm(kvOut.narrow(2, 0, dim));
            Tensor value = kvOut.narrow(2, dim, dim);
            return s.keep(proj.forward(QkNormAttention.attend(query, key, value, heads)));
        }
    }
}
