package dev.dit4j.models.microdit;

import dev.dit4j.nn.Tensor;

/** A block's FFN: the dense {@link SwiGlu} or the {@link ExpertChoiceMoe}, [N, L, dim] -> [N, L, dim]. */
public sealed interface FeedForward permits SwiGlu, ExpertChoiceMoe {
    Tensor forward(Tensor x);

    /**
     * The authors' rounding of a hidden width: up to a multiple of {@code multipleOf}. The dense
     * FFN first takes 2/3 of it (SwiGLU's three matrices cost what two would); the experts do not.
     */
    static long roundUp(long hidden, long multipleOf) {
        return multipleOf * ((hidden + multipleOf - 1) / multipleOf);
    }
}
