package dev.dit4j.models.eval;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;

/**
 * Improved precision and recall (Kynkäänniemi et al., arXiv 1904.06991) as ADM's evaluator
 * computes them: each set's manifold is the union of balls around its feature vectors whose
 * squared radius is the squared distance to the k-th nearest neighbour (k = 3, the point itself
 * not counted). Precision is the fraction of samples inside the reference manifold; recall the
 * fraction of references inside the samples'. Squared distances |u|^2 - 2 u.v + |v|^2 (clamped
 * at 0) in float32, in blocks of {@link #BLOCK} rows (ADM tries float16 first and falls back to
 * float32 where float16 overflows).
 */
public final class PrecisionRecall {
    private PrecisionRecall() {}

    public static final int K = 3;
    static final int BLOCK = 10_000;

    /** The share of samples inside the reference manifold (precision) and of references inside the samples' (recall). */
    public record Result(double precision, double recall) {}

    public static Result of(Tensor reference, Tensor samples) {
        return of(reference, samples, K);
    }

    public static Result of(Tensor reference, Tensor samples, int k) {
        check(reference, "reference", k);
        check(samples, "samples", k);
        if (reference.size(1) != samples.size(1)) {
            throw new IllegalArgumentException("precision/recall: reference features have width " + reference.size(1)
                    + ", samples " + samples.size(1));
        }
        try (TensorScope s = TensorScope.open()) {
            Tensor ref = reference.to(DType.FLOAT32), smp = samples.to(DType.FLOAT32);
            Tensor refRadii = radii(ref, k), smpRadii = radii(smp, k);
            Tensor inRef = Tensor.zeros(new long[] {smp.size(0)}, DType.BOOL, smp.device());
            Tensor inSmp = Tensor.zeros(new long[] {ref.size(0)}, DType.BOOL, ref.device());
            for (long r0 = 0; r0 < ref.size(0); r0 += BLOCK) {
                long rn = Math.min(BLOCK, ref.size(0) - r0);
                for (long c0 = 0; c0 < smp.size(0); c0 += BLOCK) {
                    try (TensorScope b = TensorScope.open()) {
                        long cn = Math.min(BLOCK, smp.size(0) - c0);
                        Tensor d = squaredDistances(ref.narrow(0, r0, rn), smp.narrow(0, c0, cn)); // [rn, cn]
                        Tensor samplesIn = d.le(refRadii.narrow(0, r0, rn).unsqueeze(1)).sum(0, false).gt(0);
                        Tensor refsIn = d.le(smpRadii.narrow(0, c0, cn).unsqueeze(0)).sum(1, false).gt(0);
                        inRef.narrow(0, c0, cn).copy_(inRef.narrow(0, c0, cn).logicalOr(samplesIn));
                        inSmp.narrow(0, r0, rn).copy_(inSmp.narrow(0, r0, rn).logicalOr(refsIn));
                    }
                }
            }
            return new Result(inRef.to(DType.FLOAT64).mean().item(), inSmp.to(DType.FLOAT64).mean().item());
        }
    }

    private static void check(Tensor f, String name, int k) {
        if (f.dim() != 2) throw new IllegalArgumentException("precision/recall: " + name + " features must be [N, d], found " + Arrays.toString(f.shape()));
        if (f.size(0) <= k) {
            throw new IllegalArgumentException("precision/recall: " + name + " has " + f.size(0) + " feature vectors; the k = " + k
                    + " nearest neighbours need more than " + k);
        }
    }

    /** The squared distance of each row [N, d] to its k-th nearest other row: [N], float32. */
    public static Tensor radii(Tensor f, int k) {
        try (TensorScope s = TensorScope.open()) {
            long n = f.size(0);
            Tensor out = Tensor.empty(new long[] {n}, DType.FLOAT32, f.device());
            for (long r0 = 0; r0 < n; r0 += BLOCK) {
                try (TensorScope b = TensorScope.open()) {
                    long rn = Math.min(BLOCK, n - r0);
                    Tensor d = squaredDistances(f.narrow(0, r0, rn), f);
                    try (Tensor.ValuesIndices smallest = d.neg().topk(k + 1, 1)) {
                        out.narrow(0, r0, rn).copy_(smallest.values().select(1, k).neg());
                    }
                }
            }
            return s.keep(out);
        }
    }

    /** max(|u|^2 - 2 u v^T + |v|^2, 0) for rows u of a and v of b. */
    static Tensor squaredDistances(Tensor a, Tensor b) {
        try (TensorScope s = TensorScope.open()) {
            Tensor na = a.square().sum(1, true), nb = b.square().sum(1, false).unsqueeze(0);
            return s.keep(na.sub(a.mm(b.transpose(0, 1)).mul(2)).add(nb).clampMin(0));
        }
    }
}
