package dev.dit4j.models.microdit;

import dev.dit4j.models.embed.Embeddings;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;

/**
 * MicroDiT's timestep embedder: 512 sinusoidal features of t (EDM's c_noise = ln(sigma) / 4) ->
 * Linear -> GELU-tanh -> Linear, weights N(0, 0.02), zero biases (keys {@code mlp.0}, {@code mlp.2}).
 */
public final class TimeEmbedder extends Module {
    public static final int FREQUENCY_DIM = 512;
    private final Linear fc1;
    private final Linear fc2;

    public TimeEmbedder(VarBuilder vb, long dim) {
        super(vb);
        fc1 = registerModule("mlp.0", Linear.of(FREQUENCY_DIM, dim).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
        fc2 = registerModule("mlp.2", Linear.of(dim, dim).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
    }

    /** t [N] -> [N, dim]. */
    public Tensor forward(Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            Tensor f = Embeddings.timestep(t, FREQUENCY_DIM, 10000).to(fc1.weight().dtype());
            return s.keep(fc2.forward(fc1.forward(f).gelu(true)));
        }
    }
}
