package dev.dit4j.nn.optim;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Optim;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) on libtorch's fused multi-tensor kernel, PyTorch's semantics:
 * decoupled weight decay, bias-corrected moments, per-parameter step counts. Parameters without a
 * gradient in a step are skipped, as PyTorch skips them.
 */
public final class AdamW implements AutoCloseable {
    private final List<Tensor> params;
    private final List<Tensor> expAvg = new ArrayList<>();
    private final List<Tensor> expAvgSq = new ArrayList<>();
    private final List<Tensor> steps = new ArrayList<>();
    private double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this.params = List.copyOf(params);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        try (var g = Autograd.noGrad()) {
            for (Tensor p : params) {
                expAvg.add(TensorScope.release(Tensor.zeros(p.shape(), p.dtype(), p.device())));
                expAvgSq.add(TensorScope.release(Tensor.zeros(p.shape(), p.dtype(), p.device())));
                steps.add(TensorScope.release(Tensor.zeros(new long[0], DType.FLOAT32, p.device())));
            }
        }
    }

    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8. */
    public static AdamW of(List<Tensor> params, double lr, double weightDecay) {
        return new AdamW(params, lr, 0.9, 0.999, 1e-8, weightDecay);
    }

    public void learningRate(double lr) {
        this.lr = lr;
    }

    public double learningRate() {
        return lr;
    }

    /** Applies one update from the parameters' current gradients. */
    public void step() {
        List<Tensor> p = new ArrayList<>(), g = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>(), s = new ArrayList<>();
        try (TensorScope scope = TensorScope.open(); var noGrad = Autograd.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor grad = params.get(i).grad();
                if (grad == null) continue;
                p.add(params.get(i));
                g.add(grad);
                m.add(expAvg.get(i));
                v.add(expAvgSq.get(i));
                s.add(steps.get(i));
            }
            if (p.isEmpty()) return;
            Optim.foreachAdd_(s, 1); // the step counts of this step, advanced as torch.optim.AdamW does
            Optim.fusedAdamW(p, g, m, v, s, lr, beta1, beta2, weightDecay, eps);
        }
    }

    /** Moments and step counts by parameter index, for checkpoints ({@code <i>.exp_avg}, ...). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            out.put(i + ".exp_avg", expAvg.get(i));
            out.put(i + ".exp_avg_sq", expAvgSq.get(i));
            out.put(i + ".step", steps.get(i));
        }
        return out;
    }

    public void loadStateDict(Map<String, Tensor> state) {
        Map<String, Tensor> own = stateDict();
        if (!own.keySet().equals(state.keySet())) {
            throw new IllegalArgumentException("optimizer state has keys for " + state.size() / 3 + " parameters, this optimizer has "
                    + params.size());
        }
        try (var g = Autograd.noGrad()) {
            own.forEach((k, t) -> t.copy_(state.get(k)));
        }
    }

    @Override
    public void close() {
        expAvg.forEach(Tensor::close);
        expAvgSq.forEach(Tensor::close);
        steps.forEach(Tensor::close);
    }
}
