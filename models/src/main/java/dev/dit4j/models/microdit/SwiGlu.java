package dev.dit4j.models.microdit;

import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;

/**
 * Dense SwiGLU FFN: w3(SiLU(w1 x) * w2 x), no biases, hidden width {@link #hiddenOf}. Init: w1
 * trunc-normal 0.02; w2 and w3 trunc-normal {@code outStd} (the authors' custom_init).
 */
public final class SwiGlu extends Module implements FeedForward {
    private final Linear w1;
    private final Linear w2;
    private final Linear w3;

    public SwiGlu(VarBuilder vb, long dim, long hidden, double outStd, Init w3Init) {
        super(vb);
        w1 = registerModule("w1", Linear.of(dim, hidden).withBias(false).withWeightInit(Init.truncNormal(0.02)));
        w2 = registerModule("w2", Linear.of(dim, hidden).withBias(false).withWeightInit(Init.truncNormal(outStd)));
        w3 = registerModule("w3", Linear.of(hidden, dim).withBias(false).withWeightInit(w3Init));
    }

    public SwiGlu(VarBuilder vb, long dim, long hidden, double outStd) {
        this(vb, dim, hidden, outStd, Init.truncNormal(outStd));
    }

    /** FeedForward's hidden width for an un-rounded {@code mlpHidden}: round_up(int(2 mlpHidden / 3), multipleOf). */
    public static long hiddenOf(long mlpHidden, long multipleOf) {
        return FeedForward.roundUp((long) (2.0 * mlpHidden / 3), multipleOf);
    }

    @Override
    public Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(w3.forward(w1.forward(x).silu().mul(w2.forward(x))));
        }
    }
}
