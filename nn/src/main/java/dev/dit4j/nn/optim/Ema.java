package dev.dit4j.nn.optim;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Optim;
import dev.dit4j.nn.Tensor;
import java.util.List;

/** An exponential moving average of a model's parameters kept in a second instance of it (DiT: decay 0.9999). */
public final class Ema {
    private final Module average;
    private final List<Tensor> averaged;
    private final List<Tensor> current;
    private final double decay;

    /** {@code average} must be a separate instance of the same architecture; it starts as a copy of {@code model}. */
    public Ema(Module model, Module average, double decay) {
        if (decay < 0 || decay > 1) throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
        this.average = average;
        this.decay = decay;
        average.loadStateDict(model.stateDict());
        average.namedParameters().values().forEach(p -> p.requiresGrad(false));
        average.eval();
        // the parameter tensors never change identity, so the pairing is made once
        this.averaged = List.copyOf(average.namedParameters().values());
        this.current = List.copyOf(model.namedParameters().values());
    }

    public Module average() {
        return average;
    }

    public void update() {
        update(decay);
    }

    /** One update with {@code decay} in place of the configured one (0 copies the weights: an EMA that has not started yet). */
    public void update(double decay) {
        Optim.emaUpdate(averaged, current, decay);
    }
}
