package dev.dit4j.models.microdit;

import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;

/**
 * fc1 -> GELU-tanh -> norm (weight only) -> fc2, with biases, weights N(0, 0.02) and zero biases:
 * the caption projection ({@code y_embedder.y_proj}) and the pooled-caption MLP
 * ({@code pooled_y_emb_process}), keys {@code fc1}, {@code norm}, {@code fc2}.
 */
public final class GeluMlp extends Module {
    private final Linear fc1;
    private final LayerNorm norm;
    private final Linear fc2;

    public GeluMlp(VarBuilder vb, long in, long dim) {
        super(vb);
        fc1 = registerModule("fc1", Linear.of(in, dim).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
        norm = registerModule("norm", MicroDiTBlock.norm(dim));
        fc2 = registerModule("fc2", Linear.of(dim, dim).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
    }

    public Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(fc2.forward(norm.forward(fc1.forwardGeluTanh(x))));
        }
    }
}
