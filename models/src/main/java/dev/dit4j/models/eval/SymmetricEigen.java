package dev.dit4j.models.eval;

import java.util.stream.IntStream;

/**
 * Eigenvalues of a real symmetric matrix in float64: Householder reduction to tridiagonal form,
 * then the implicit QL iteration with Wilkinson shifts (the EISPACK tred/tql pair), eigenvalues
 * only. About (4/3) n^3 flops; rows are updated in parallel when the matrix is large.
 */
final class SymmetricEigen {
    private SymmetricEigen() {}

    /** The eigenvalues of the symmetric n x n matrix {@code a} (row-major; destroyed), ascending. */
    static double[] eigenvalues(double[] a, int n) {
        double[] d = new double[n], e = new double[n];
        tridiagonalize(a, n, d, e);
        ql(d, e, n);
        java.util.Arrays.sort(d);
        return d;
    }

    /** A = Q T Q^T: T's diagonal into d, its off-diagonal (between i and i+1) into e[i]. */
    private static void tridiagonalize(double[] a, int n, double[] d, double[] e) {
        double[] v = new double[n], p = new double[n];
        for (int k = 0; k < n - 2; k++) {
            int m = n - k - 1, off = k + 1; // the trailing block is rows/columns off..n-1
            double norm2 = 0;
            for (int i = off; i < n; i++) norm2 += a[i * n + k] * a[i * n + k];
            d[k] = a[k * n + k];
            double x0 = a[off * n + k];
            if (norm2 == 0) {
                e[k] = 0;
                continue;
            }
            double alpha = x0 > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
            for (int i = off; i < n; i++) v[i] = a[i * n + k];
            v[off] -= alpha;
            double vv = norm2 - x0 * x0 + v[off] * v[off];
            e[k] = alpha;
            if (vv == 0) continue;
            double beta = 2 / vv;
            // p = beta B v; q = p - (beta/2)(v.p) v; B -= v q^T + q v^T
            rows(off, n, m, i -> {
                double s = 0;
                int row = i * n;
                for (int j = off; j < n; j++) s += a[row + j] * v[j];
                p[i] = beta * s;
            });
            double vp = 0;
            for (int i = off; i < n; i++) vp += v[i] * p[i];
            double kk = beta * vp / 2;
            for (int i = off; i < n; i++) p[i] -= kk * v[i];
            rows(off, n, m, i -> {
                int row = i * n;
                double vi = v[i], qi = p[i];
                for (int j = off; j < n; j++) a[row + j] -= vi * p[j] + qi * v[j];
            });
        }
        if (n >= 2) {
            d[n - 2] = a[(n - 2) * n + n - 2];
            e[n - 2] = a[(n - 1) * n + n - 2];
        }
        d[n - 1] = a[(n - 1) * n + n - 1];
        e[n - 1] = 0;
    }

    private static void rows(int from, int to, int size, java.util.function.IntConsumer body) {
        if (size >= 256) IntStream.range(from, to).parallel().forEach(body);
        else for (int i = from; i < to; i++) body.accept(i);
    }

    /** Implicit QL with shifts on the tridiagonal (d, e); eigenvalues left in d. */
    private static void ql(double[] d, double[] e, int n) {
        for (int l = 0; l < n; l++) {
            int iter = 0, m;
            do {
                for (m = l; m < n - 1; m++) {
                    double dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
                    if (Math.abs(e[m]) <= Math.ulp(dd)) break;
                }
                if (m != l) {
                    if (iter++ == 100) throw new ArithmeticException("eigenvalues did not converge (QL, index " + l + ")");
                    double g = (d[l + 1] - d[l]) / (2 * e[l]);
                    double r = Math.hypot(g, 1);
                    g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                    double s = 1, c = 1, p = 0;
                    int i;
                    for (i = m - 1; i >= l; i--) {
                        double f = s * e[i], b = c * e[i];
                        e[i + 1] = r = Math.hypot(f, g);
                        if (r == 0) {
                            d[i + 1] -= p;
                            e[m] = 0;
                            break;
                        }
                        s = f / r;
                        c = g / r;
                        g = d[i + 1] - p;
                        r = (d[i] - g) * s + 2 * c * b;
                        p = s * r;
                        d[i + 1] = g + p;
                        g = c * r - b;
                    }
                    if (r == 0 && i >= l) continue;
                    d[l] -= p;
                    e[l] = g;
                    e[m] = 0;
                }
            } while (m != l);
        }
    }
}
