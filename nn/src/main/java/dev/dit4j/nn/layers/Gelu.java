package dev.dit4j.nn.layers;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/** The GELUs: nn.GELU's exact (erf) and tanh-approximated forms, and OpenAI CLIP's QuickGELU, x sigmoid(1.702 x). */
public enum Gelu {
    EXACT, TANH, QUICK;

    /** This GELU of {@code x}, a new tensor. */
    public Tensor apply(Tensor x) {
        if (this != QUICK) return x.gelu(this == TANH);
        try (TensorScope s = TensorScope.open()) {
            return s.keep(x.mul(x.mul(1.702).sigmoid()));
        }
    }
}
