package dev.dit4j.models.sampling;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * A noise-predicting {@link Denoiser} seen in the solver's continuous time (the reference's
 * model_wrapper plus DPM-Solver++'s data prediction). Guidance is the denoiser's business: pass
 * one that already mixes conditional and unconditional outputs.
 */
public final class NoisePredictionModel {
    private final Denoiser net;
    private final NoiseScheduleVP schedule;
    private final TimeInput timeInput;
    private final boolean learnsSigma;
    private int evaluations;

    /**
     * @param learnsSigma the network outputs 2C channels (epsilon, then the variance head, as DiT);
     *     only the first C are used
     */
    public NoisePredictionModel(Denoiser net, NoiseScheduleVP schedule, TimeInput timeInput, boolean learnsSigma) {
        this.net = net;
        this.schedule = schedule;
        this.timeInput = timeInput;
        this.learnsSigma = learnsSigma;
    }

    /** Predicted noise at solver time t, with x's C channels. Timesteps go to the network as float64 for float64 x, else float32. */
    public Tensor noise(Tensor x, double t) {
        if (x.dim() < 2) throw new IllegalArgumentException("x needs a batch and a channel dimension, got shape " + java.util.Arrays.toString(x.shape()));
        long c = x.size(1);
        try (TensorScope s = TensorScope.open()) {
            DType timeType = x.dtype() == DType.FLOAT64 ? DType.FLOAT64 : DType.FLOAT32;
            Tensor steps = Tensor.full(timeInput.apply(t), new long[] {x.size(0)}, timeType, x.device());
            Tensor out = net.apply(x, steps);
            evaluations++;
            long want = learnsSigma ? 2 * c : c;
            if (out.dim() != x.dim() || out.size(0) != x.size(0) || out.size(1) != want) {
                throw new IllegalArgumentException("the denoiser should output " + want + " channels for x of shape "
                        + java.util.Arrays.toString(x.shape()) + (learnsSigma ? " (epsilon and variance)" : " (epsilon)")
                        + ", got shape " + java.util.Arrays.toString(out.shape()));
            }
            Tensor eps = learnsSigma ? out.narrow(1, 0, c) : out;
            return s.keep(eps.to(x.dtype()).contiguous());
        }
    }

    /** Predicted clean data x0 = (x - sigma_t eps) / alpha_t. */
    public Tensor data(Tensor x, double t) {
        try (TensorScope s = TensorScope.open()) {
            Tensor eps = noise(x, t);
            return s.keep(x.sub(eps.mul(schedule.marginalStd(t))).div(schedule.marginalAlpha(t)));
        }
    }

    /** Network evaluations so far. */
    public int evaluations() {
        return evaluations;
    }
}
