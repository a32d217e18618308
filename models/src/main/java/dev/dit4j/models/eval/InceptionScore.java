package dev.dit4j.models.eval;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;

/**
 * The Inception Score (Salimans et al., arXiv 1606.03498) as ADM's evaluator computes it: class
 * probabilities p = softmax(logits) per image, the images taken in consecutive splits of
 * {@link #ADM_SPLIT_SIZE} (so 50,000 samples make ADM's 10 splits), per split
 * exp(mean_i KL(p_i || mean p)), and the mean over splits. The logits are
 * {@link InceptionV3#unbiasedLogits}, as ADM reads the head without its bias.
 */
public final class InceptionScore {
    private InceptionScore() {}

    public static final int ADM_SPLIT_SIZE = 5000;

    /** The score of logits [N, C] over splits of {@code splitSize} images (the last may be shorter). */
    public static double of(Tensor logits, int splitSize) {
        if (logits.dim() != 2 || logits.size(0) == 0) {
            throw new IllegalArgumentException("Inception Score: logits must be [N, classes] with N > 0, found " + Arrays.toString(logits.shape()));
        }
        if (splitSize < 1) throw new IllegalArgumentException("Inception Score: split size must be positive, got " + splitSize);
        try (TensorScope s = TensorScope.open()) {
            Tensor p = Functional.softmax(logits.to(DType.FLOAT32), 1).to(DType.FLOAT64);
            long n = p.size(0);
            double total = 0;
            int splits = 0;
            for (long start = 0; start < n; start += splitSize, splits++) {
                Tensor part = p.narrow(0, start, Math.min(splitSize, n - start));
                Tensor marginal = part.mean(0, true);
                Tensor kl = part.mul(part.log().sub(marginal.log())).sum(1, false).mean();
                total += Math.exp(kl.item());
            }
            return total / splits;
        }
    }
}
