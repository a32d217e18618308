package dev.dit4j.models.microdit;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Linear;

/**
 * Expert-choice mixture of experts (Zhou et al. 2022) as MicroDiT's FeedForwardECMoe: a gate
 * Linear(dim -> E, no bias) and softmax over the experts per token; each expert takes the
 * k = int(capacity T / E) tokens of the sequence it scores highest, runs GELU(x W1[e]) W2[e]
 * (exact GELU; W1 [E, dim, hidden] and W2 [E, hidden, dim] are raw tensors used as x W, keys
 * {@code w1}, {@code w2}, {@code gate.weight}), and adds its output, scaled by its gate
 * probability, back to those tokens. A token no expert picks gets 0; one picked by several gets
 * the sum.
 *
 * <p>The routing is device work only: top-k over tokens, one index_select to gather every
 * expert's tokens, two batched matmuls over the experts and one scatter_add to combine, with no
 * host loop over experts or tokens and nothing read back to the host. (The authors dispatch and
 * combine with one-hot einsums of cost N E k T d each; the gathers here do no arithmetic.)
 */
public final class ExpertChoiceMoe extends Module implements FeedForward {
    private final Linear gate;
    private final Tensor w1;
    private final Tensor w2;
    private final int experts;
    private final double capacity;

    public ExpertChoiceMoe(VarBuilder vb, long dim, long hidden, int experts, double capacity, double outStd) {
        super(vb);
        if (experts <= 0 || !(capacity > 0)) throw new IllegalArgumentException("need experts > 0 and capacity > 0, got " + experts + ", " + capacity);
        this.experts = experts;
        this.capacity = capacity;
        w1 = registerParameter("w1", new long[] {experts, dim, hidden}, Init.truncNormal(0.02));
        w2 = registerParameter("w2", new long[] {experts, hidden, dim}, Init.truncNormal(outStd));
        gate = registerModule("gate", Linear.of(dim, experts).withBias(false).withWeightInit(Init.truncNormal(0.02)));
    }

    /** Expert hidden width for an un-rounded {@code mlpHidden}: round_up(mlpHidden, multipleOf), no 2/3 factor. */
    public static long hiddenOf(long mlpHidden, long multipleOf) {
        return FeedForward.roundUp(mlpHidden, multipleOf);
    }

    /** Tokens each expert takes from a sequence of {@code tokens}: int(capacity T / E). */
    public long tokensPerExpert(long tokens) {
        return (long) (capacity * tokens / experts);
    }

    /** x [N, T, dim] -> [N, T, dim]. */
    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 3) throw new IllegalArgumentException("MoE input must be [N, T, D]; got " + java.util.Arrays.toString(x.shape()));
        long n = x.size(0), t = x.size(1), d = x.size(2);
        long k = tokensPerExpert(t);
        if (k < 1) throw new IllegalArgumentException("a sequence of " + t + " tokens gives each of " + experts + " experts no token at capacity " + capacity);
        try (TensorScope s = TensorScope.open()) {
            Tensor probs = Functional.softmax(gate.forward(x), -1); // [N, T, E]
            Tensor.ValuesIndices top = probs.transpose(1, 2).topk(k, -1); // [N, E, k] each
            // flat token rows of the [N*T, d] view, expert-major: [E, N, k]
            Tensor offsets = Tensor.arange(0, n * t, t, DType.INT64, x.device()).reshape(1, n, 1);
            Tensor rows = top.indices().transpose(0, 1).add(offsets).reshape(-1);
            Tensor picked = x.reshape(n * t, d).indexSelect(0, rows).reshape(experts, n * k, d);
            Tensor h = picked.bmm(w1).gelu(false).bmm(w2); // [E, N*k, d]
            Tensor weighted = h.mul(top.values().transpose(0, 1).reshape(experts, n * k, 1));
            Tensor index = rows.unsqueeze(1).expand(rows.size(0), d);
            Tensor out = Tensor.zeros(new long[] {n * t, d}, weighted.dtype(), x.device())
                    .scatterAdd(0, index, weighted.reshape(experts * n * k, d));
            return s.keep(out.reshape(n, t, d).to(x.dtype()));
        }
    }
}
