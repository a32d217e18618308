package dev.dit4j.models.embed;

import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;

/**
 * DiT's timestep embedder (U-DiT's too): 256 sinusoidal features of t -> Linear -> SiLU ->
 * Linear, weights N(0, 0.02) and zero biases (keys {@code mlp.0.*}, {@code mlp.2.*}).
 */
public final class TimestepEmbedder extends Module {
    public static final int FREQUENCY_DIM = 256;
    private final Linear fc1;
    private final Linear fc2;

    public TimestepEmbedder(VarBuilder vb, int hidden) {
        super(vb);
        fc1 = registerModule("mlp.0", Linear.of(FREQUENCY_DIM, hidden).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
        fc2 = registerModule("mlp.2", Linear.of(hidden, hidden).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
    }

    /** t [N] (may be fractional) -> [N, hidden]. */
    public Tensor forward(Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            Tensor f = Embeddings.timestep(t, FREQUENCY_DIM, 10000).to(fc1.weight().dtype());
            return s.keep(fc2.forward(fc1.forward(f).silu()));
        }
    }
}
