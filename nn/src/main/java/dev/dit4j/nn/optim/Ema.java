package dev.dit4j.nn.optim;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Optim;
import dev.dit4j.nn.Tensor;
import java.util.List;

/** An exponential moving average of a model's parameters kept in a second instance of it (DiT: decay 0.9999). */
public final class Ema {
    private final Module model;
    private final Module average;
    private final double decay;

    /** {@code average} must be a separate instance of the same architecture; it starts as a copy of {@code model}. */
    public Ema(Module model, Module average, double decay) {
        if (decay < 0 || decay > 1) throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
        this.model = model;
        this.average = average;
        this.decay = decay;
        average.loadStateDict(model.stateDict());
        average.namedParameters().values().forEach(p -> p.requiresGrad(false));
        average.eval();
    }

    public Module average() {
        return average;
    }

    public void update() {
        List<Tensor> avg = List.copyOf(average.namedParameters().values());
        List<Tensor> cur = List.copyOf(model.namedParameters().values());
        Optim.emaUpdate(avg, cur, decay);
    }
}
