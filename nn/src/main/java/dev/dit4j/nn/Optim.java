package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.util.List;

/** libtorch's fused, multi-tensor optimiser kernels (one native call for all parameters). */
public final class Optim {
    private Optim() {}

    /**
     * One AdamW update of every parameter (torch._fused_adamw_). {@code steps} are float32
     * scalars that the caller has already incremented for this step.
     */
    public static void fusedAdamW(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvgs, List<Tensor> expAvgSqs,
                                  List<Tensor> steps, double lr, double beta1, double beta2, double weightDecay, double eps) {
        int n = params.size();
        if (grads.size() != n || expAvgs.size() != n || expAvgSqs.size() != n || steps.size() != n) {
            throw new IllegalArgumentException("AdamW needs one gradient and state per parameter");
        }
        Tensor.callLists(Tensor.Use.DIRECT, List.of(params, grads, expAvgs, expAvgSqs, steps),
                h -> LibTorch.fusedAdamw_(h[0], h[1], h[2], h[3], h[4], lr, beta1, beta2, weightDecay, eps));
    }

    /** Adds {@code value} to each tensor in place, as one multi-tensor op. */
    public static void foreachAdd_(List<Tensor> tensors, double value) {
        Tensor.callLists(Tensor.Use.DIRECT, List.of(tensors), h -> LibTorch.foreachAdd_(h[0], value));
    }

    /** Scales all gradients so their global 2-norm is at most maxNorm; returns the norm before (no sync). */
    public static Tensor clipGradNorm(List<Tensor> params, double maxNorm) {
        return Tensor.wrap(Tensor.callLists(Tensor.Use.DIRECT, List.of(params), h -> LibTorch.clipGradNorm_(h[0], maxNorm)));
    }

    /** ema = decay * ema + (1 - decay) * param, for every pair. */
    public static void emaUpdate(List<Tensor> ema, List<Tensor> params, double decay) {
        if (ema.size() != params.size()) throw new IllegalArgumentException("EMA and model have different parameter counts");
        Tensor.callLists(Tensor.Use.DIRECT, List.of(ema, params), h -> LibTorch.emaUpdate_(h[0], h[1], decay));
    }
}
