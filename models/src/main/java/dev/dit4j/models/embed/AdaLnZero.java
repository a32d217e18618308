package dev.dit4j.models.embed;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/**
 * The six adaLN-Zero modulation vectors of a DiT-style block, each [N, D], in the authors' chunk
 * order: shift, scale and gate of the attention branch, then of the MLP branch.
 */
public record AdaLnZero(Tensor shiftMsa, Tensor scaleMsa, Tensor gateMsa, Tensor shiftMlp, Tensor scaleMlp, Tensor gateMlp) {
    /** Splits the [N, 6D] output of adaLN_modulation. */
    public static AdaLnZero of(Tensor modulation) {
        List<Tensor> m = modulation.chunk(6, 1);
        return new AdaLnZero(m.get(0), m.get(1), m.get(2), m.get(3), m.get(4), m.get(5));
    }

    /** x * (1 + scale) + shift as one addcmul; shift and scale broadcast against x. */
    public static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(shift.addcmul(x, scale.add(1)));
        }
    }

    /** Token form: x [N, L, D] modulated by per-sample shift and scale [N, D]. */
    public static Tensor modulateTokens(Tensor x, Tensor shift, Tensor scale) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(modulate(x, shift.unsqueeze(1), scale.unsqueeze(1)));
        }
    }

    /** The final layer's two vectors: shift, scale. */
    public record ShiftScale(Tensor shift, Tensor scale) {
        /** Splits the [N, 2D] output of the final layer's adaLN_modulation. */
        public static ShiftScale of(Tensor modulation) {
            List<Tensor> m = modulation.chunk(2, 1);
            return new ShiftScale(m.get(0), m.get(1));
        }
    }
}
