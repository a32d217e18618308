package dev.dit4j.models.eval;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * The Fréchet distance between two Gaussians (Heusel et al., arXiv 1706.08500), as pytorch-fid's
 * calculate_frechet_distance and ADM's evaluator compute it in float64:
 * |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrtm(S1 S2).
 *
 * <p>Only the trace of the square root is needed, and it is the sum of the square roots of the
 * eigenvalues of S1 S2. These are the eigenvalues of the symmetric L^T S2 L for any factor
 * S1 = L L^T: L comes from a pivoted Cholesky factorisation that stops at S1's numerical rank
 * (covariances of fewer samples than dimensions are singular), the eigenvalues from a symmetric
 * solver. Eigenvalues that rounding makes slightly negative count as zero, as the real part of
 * scipy's sqrtm drops them. If the result is not finite, it is computed again with eps added to
 * both diagonals, as pytorch-fid does when sqrtm fails.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /** pytorch-fid's default offset for the singular-product fallback. */
    public static final double EPS = 1e-6;

    public static double between(FeatureStatistics a, FeatureStatistics b) {
        if (a.dim() != b.dim()) {
            throw new IllegalArgumentException("statistics of different widths: " + a.source() + " has " + a.dim() + " features, "
                    + b.source() + " has " + b.dim());
        }
        int d = a.dim();
        double diff = 0, traces = 0;
        for (int i = 0; i < d; i++) {
            double x = a.mu()[i] - b.mu()[i];
            diff += x * x;
            traces += a.sigma()[i * d + i] + b.sigma()[i * d + i];
        }
        double trSqrt;
        try {
            trSqrt = traceSqrtOfProduct(a.sigma(), b.sigma(), d, 0);
        } catch (ArithmeticException e) {
            trSqrt = Double.NaN;
        }
        if (!Double.isFinite(trSqrt)) trSqrt = traceSqrtOfProduct(a.sigma(), b.sigma(), d, EPS);
        return diff + traces - 2 * trSqrt;
    }

    /** tr sqrtm((S1 + eps I)(S2 + eps I)). */
    static double traceSqrtOfProduct(double[] s1, double[] s2, int d, double eps) {
        double[] first = withDiagonal(s1, d, eps), second = withDiagonal(s2, d, eps);
        Factor f = pivotedCholesky(first, d);
        if (f.rank == 0) return 0;
        double[] m;
        try (TensorScope s = TensorScope.open()) {
            Tensor l = Tensor.of(f.l, d, f.rank);
            Tensor prod = l.transpose(0, 1).mm(Tensor.of(second, d, d)).mm(l);
            m = prod.add(prod.transpose(0, 1)).mul(0.5).contiguous().toDoubleArray();
        }
        double[] lambda = SymmetricEigen.eigenvalues(m, f.rank);
        double largest = Math.max(Math.abs(lambda[0]), Math.abs(lambda[f.rank - 1]));
        if (lambda[0] < -1e-6 * largest) {
            throw new IllegalArgumentException("a covariance is not positive semi-definite: S1 S2 has the eigenvalue " + lambda[0]
                    + " (largest " + largest + ")");
        }
        double trace = 0;
        for (double x : lambda) trace += Math.sqrt(Math.max(x, 0));
        return trace;
    }

    private static double[] withDiagonal(double[] s, int d, double eps) {
        double[] out = s.clone();
        if (eps != 0) for (int i = 0; i < d; i++) out[i * d + i] += eps;
        return out;
    }

    /** S = L L^T with L [d, rank] row-major (rows in S's order). */
    private record Factor(double[] l, int rank) {}

    /**
     * Outer-product Cholesky with diagonal pivoting on a copy of the positive semi-definite s: each
     * step takes the largest remaining diagonal entry; it stops when that falls to d * ulp of the
     * largest diagonal (the numerical rank).
     */
    private static Factor pivotedCholesky(double[] s, int d) {
        double[] r = s.clone();
        double[] cols = new double[d * d]; // column j of L at cols[j * d ..]
        boolean[] used = new boolean[d];
        double maxDiag = 0;
        for (int i = 0; i < d; i++) maxDiag = Math.max(maxDiag, r[i * d + i]);
        double tol = d * Math.ulp(maxDiag);
        int rank = 0;
        for (; rank < d; rank++) {
            int q = -1;
            double best = tol;
            for (int i = 0; i < d; i++) {
                if (!used[i] && r[i * d + i] > best) {
                    best = r[i * d + i];
                    q = i;
                }
            }
            if (q < 0) break;
            used[q] = true;
            double pivot = Math.sqrt(r[q * d + q]);
            int base = rank * d;
            for (int i = 0; i < d; i++) cols[base + i] = used[i] && i != q ? 0 : r[i * d + q] / pivot;
            final int b = base, pivotRow = q;
            java.util.stream.IntStream rows = java.util.stream.IntStream.range(0, d);
            (d >= 256 ? rows.parallel() : rows).forEach(i -> {
                if (used[i] && i != pivotRow) return;
                double ci = cols[b + i];
                if (ci == 0) return;
                int row = i * d;
                for (int j = 0; j < d; j++) r[row + j] -= ci * cols[b + j];
            });
        }
        double[] l = new double[d * rank];
        for (int j = 0; j < rank; j++) for (int i = 0; i < d; i++) l[i * rank + j] = cols[j * d + i];
        return new Factor(l, rank);
    }
}
