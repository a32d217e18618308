package dev.dit4j.models.eval;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;

/**
 * The mean and covariance of a set of feature vectors in float64, as FID compares them:
 * {@code mu} [d] and {@code sigma} [d, d] row-major, the covariance with numpy.cov's n - 1
 * divisor. {@code source} names where they came from, for error messages.
 */
public record FeatureStatistics(double[] mu, double[] sigma, long count, String source) {
    public FeatureStatistics {
        int d = mu.length;
        if (d == 0) throw new IllegalArgumentException(source + ": statistics of zero-width features");
        if (sigma.length != (long) d * d) {
            throw new IllegalArgumentException(source + ": 'sigma' has " + sigma.length + " entries, expected [" + d + ", " + d
                    + "] to match 'mu' [" + d + "]");
        }
        for (int i = 0; i < d; i++) {
            if (!Double.isFinite(mu[i])) throw new IllegalArgumentException(source + ": 'mu' has a non-finite entry " + mu[i] + " at " + i);
        }
        for (int i = 0; i < sigma.length; i++) {
            if (!Double.isFinite(sigma[i])) {
                throw new IllegalArgumentException(source + ": 'sigma' has a non-finite entry " + sigma[i] + " at [" + i / d + ", " + i % d + "]");
            }
        }
    }

    public int dim() {
        return mu.length;
    }

    /** Statistics from tensors mu [d] and sigma [d, d] (any floating dtype), e.g. an ADM reference batch. */
    public static FeatureStatistics of(Tensor mu, Tensor sigma, String source) {
        if (mu.dim() != 1 || !mu.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(source + ": 'mu' must be a floating-point vector [d], found " + mu.dtype() + " " + Arrays.toString(mu.shape()));
        }
        if (sigma.dim() != 2 || sigma.size(0) != mu.size(0) || sigma.size(1) != mu.size(0) || !sigma.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(source + ": 'sigma' must be floating point [" + mu.size(0) + ", " + mu.size(0)
                    + "] to match 'mu', found " + sigma.dtype() + " " + Arrays.toString(sigma.shape()));
        }
        try (TensorScope s = TensorScope.open()) {
            return new FeatureStatistics(mu.to(Device.CPU, DType.FLOAT64).contiguous().toDoubleArray(),
                    sigma.to(Device.CPU, DType.FLOAT64).contiguous().toDoubleArray(), -1, source);
        }
    }

    /** mu as a tensor [d] (float64, CPU). */
    public Tensor muTensor() {
        return Tensor.of(mu, mu.length);
    }

    /** sigma as a tensor [d, d] (float64, CPU). */
    public Tensor sigmaTensor() {
        return Tensor.of(sigma, mu.length, mu.length);
    }

    /**
     * Streams feature batches [B, d] into float64 sums, shifted by the first batch's mean so that
     * the covariance keeps its precision (the shifted-data algorithm), on the batches' device.
     */
    public static final class Accumulator implements AutoCloseable {
        private final String source;
        private Tensor shift, sum, outer;
        private long count;

        public Accumulator(String source) {
            this.source = source;
        }

        public void add(Tensor features) {
            if (features.dim() != 2) {
                throw new IllegalArgumentException(source + ": features must be [B, d], found " + Arrays.toString(features.shape()));
            }
            try (TensorScope s = TensorScope.open()) {
                Tensor x = features.to(DType.FLOAT64);
                if (shift == null) {
                    shift = TensorScope.release(x.mean(0, true));
                    sum = TensorScope.release(Tensor.zeros(new long[] {x.size(1)}, DType.FLOAT64, x.device()));
                    outer = TensorScope.release(Tensor.zeros(new long[] {x.size(1), x.size(1)}, DType.FLOAT64, x.device()));
                } else if (x.size(1) != shift.size(1)) {
                    throw new IllegalArgumentException(source + ": features of width " + x.size(1) + " after width " + shift.size(1));
                }
                Tensor c = x.sub(shift);
                sum.add_(c.sum(0, false));
                outer.add_(c.transpose(0, 1).mm(c));
                count += x.size(0);
            }
        }

        public long count() {
            return count;
        }

        /** mean = shift + S/n; cov = (C - S S^T / n) / (n - 1). */
        public FeatureStatistics statistics() {
            if (count < 2) throw new IllegalArgumentException(source + ": statistics need at least 2 images, found " + count);
            try (TensorScope s = TensorScope.open()) {
                Tensor mean = sum.div(count);
                Tensor cov = outer.sub(mean.unsqueeze(1).mm(mean.unsqueeze(0)).mul(count)).div(count - 1);
                Tensor mu = mean.add(shift.squeeze(0));
                return new FeatureStatistics(mu.to(Device.CPU).toDoubleArray(), cov.to(Device.CPU).contiguous().toDoubleArray(), count, source);
            }
        }

        @Override
        public void close() {
            if (shift != null) {
                shift.close();
                sum.close();
                outer.close();
            }
        }
    }
}
