package dev.dit4j.models.microdit;

import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.LayerNorm;

/**
 * The caption pre-processing block (key {@code y_emb_preprocess}): one pre-norm transformer block
 * over the caption tokens, x += SelfAttn(norm1 x); x += SwiGLU(norm2 x), SwiGLU hidden from an
 * MLP ratio of 4. Initialised with std 0.02 and its two output projections zeroed.
 */
public final class PromptBlock extends Module {
    private final LayerNorm norm1, norm2;
    private final QkNormAttention attn;
    private final SwiGlu mlp;

    public PromptBlock(VarBuilder vb, long dim, long headDim, long multipleOf) {
        super(vb);
        norm1 = registerModule("norm1", MicroDiTBlock.norm(dim));
        attn = registerModule("attn", p -> new QkNormAttention(p, dim, dim, dim / headDim, Init.zeros()));
        norm2 = registerModule("norm2", MicroDiTBlock.norm(dim));
        mlp = registerModule("mlp", p -> new SwiGlu(p, dim, SwiGlu.hiddenOf(4 * dim, multipleOf), 0.02, Init.zeros()));
    }

    /** tokens [N, S, dim] -> [N, S, dim]. */
    public Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            x = x.add(attn.forward(norm1.forward(x)));
            return s.keep(x.add(mlp.forward(norm2.forward(x))));
        }
    }
}
