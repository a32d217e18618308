package dev.dit4j.models.embed;

import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;
import java.util.function.UnaryOperator;

/**
 * The timestep embedder: sinusoidal features of t -> Linear -> activation -> Linear, weights
 * N(0, 0.02) and zero biases (keys {@code mlp.0.*}, {@code mlp.2.*}). DiT's and U-DiT's take 256
 * features and SiLU; MicroDiT's 512 features of EDM's c_noise and GELU-tanh.
 */
public final class TimestepEmbedder extends Module {
    private final int frequencyDim;
    private final UnaryOperator<Tensor> activation;
    private final Linear fc1;
    private final Linear fc2;

    /** DiT's and U-DiT's: 256 features, SiLU. */
    public TimestepEmbedder(VarBuilder vb, long hidden) {
        this(vb, 256, hidden, Tensor::silu);
    }

    /** MicroDiT's: 512 features, GELU-tanh. */
    public static TimestepEmbedder microDiT(VarBuilder vb, long hidden) {
        return new TimestepEmbedder(vb, 512, hidden, x -> x.gelu(true));
    }

    private TimestepEmbedder(VarBuilder vb, int frequencyDim, long hidden, UnaryOperator<Tensor> activation) {
        super(vb);
        this.frequencyDim = frequencyDim;
        this.activation = activation;
        fc1 = registerModule("mlp.0", Linear.of(frequencyDim, hidden).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
        fc2 = registerModule("mlp.2", Linear.of(hidden, hidden).withWeightInit(Init.normal(0.02)).withBiasInit(Init.zeros()));
    }

    /** t [N] (may be fractional) -> [N, hidden]. */
    public Tensor forward(Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            Tensor f = Embeddings.timestep(t, frequencyDim, 10000).to(fc1.weight().dtype());
            return s.keep(fc2.forward(activation.apply(fc1.forward(f))));
        }
    }
}
