package dev.dit4j.models.vae;

import dev.dit4j.nn.Tensor;
import java.util.function.UnaryOperator;

/**
 * One step of a forward chain that frees its input as soon as it is used, rather than at the end
 * of the enclosing scope. The autoencoder's activations are large (128 x 512 x 512 floats at
 * 512 px): freed at once, their memory is reused by the next step while still cached and mapped,
 * as PyTorch's reference counting does; kept to the scope's end, every step touches new pages.
 */
final class Chain {
    private Chain() {}

    /** f(t), then t closed unless it is {@code callers} (an input the caller still owns). */
    static Tensor step(Tensor t, UnaryOperator<Tensor> f, Tensor callers) {
        Tensor out = f.apply(t);
        if (t != callers) t.close();
        return out;
    }
}
