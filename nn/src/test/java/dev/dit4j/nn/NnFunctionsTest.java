package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Neural-network functions against float64 references written out in Java loops. */
class NnFunctionsTest extends TestSupport {
    @Test
    void softmaxAndLogSoftmax() {
        double[] v = {1, 2, 3, -1, 0, 1};
        double[] expected = new double[6];
        for (int r = 0; r < 2; r++) {
            double z = 0;
            for (int c = 0; c < 3; c++) z += Math.exp(v[r * 3 + c]);
            for (int c = 0; c < 3; c++) expected[r * 3 + c] = Math.exp(v[r * 3 + c]) / z;
        }
        assertClose(expected, Functional.softmax(f64(v, 2, 3), 1).flatten(), 1e-15);
        assertClose(java.util.Arrays.stream(expected).map(Math::log).toArray(), Functional.logSoftmax(f64(v, 2, 3), -1).flatten(), 1e-14);
    }

    @Test
    void layerNormWithAndWithoutAffine() {
        Tensor x = seeded(1, 2, 5);
        double[] xv = x.toDoubleArray();
        double[] w = {1, 2, 0.5, -1, 3};
        double[] b = {0, 0.1, 0.2, 0.3, 0.4};
        double[] plain = new double[10];
        double[] affine = new double[10];
        for (int r = 0; r < 2; r++) {
            double mean = 0, var = 0;
            for (int c = 0; c < 5; c++) mean += xv[r * 5 + c] / 5;
            for (int c = 0; c < 5; c++) var += Math.pow(xv[r * 5 + c] - mean, 2) / 5;
            for (int c = 0; c < 5; c++) {
                plain[r * 5 + c] = (xv[r * 5 + c] - mean) / Math.sqrt(var + 1e-6);
                affine[r * 5 + c] = plain[r * 5 + c] * w[c] + b[c];
            }
        }
        assertClose(plain, Functional.layerNorm(x, new long[] {5}, null, null, 1e-6).flatten(), 1e-12);
        assertClose(affine, Functional.layerNorm(x, new long[] {5}, f64(w, 5), f64(b, 5), 1e-6).flatten(), 1e-12);
    }

    @Test
    void groupNormNormalisesEachGroup() {
        Tensor x = seeded(2, 2, 4, 3, 3);
        Tensor y = Functional.groupNorm(x, 2, null, null, 1e-5);
        Tensor grouped = y.reshape(2, 2, 18);
        assertClose(new double[4], grouped.mean(2, false).flatten(), 1e-12);
        Tensor var = grouped.var(new long[] {2}, 0, false);
        double[] expected = x.reshape(2, 2, 18).var(new long[] {2}, 0, false).toDoubleArray();
        for (int i = 0; i < 4; i++) expected[i] = expected[i] / (expected[i] + 1e-5);
        assertClose(expected, var.flatten(), 1e-10);
        Tensor w = f64(new double[] {1, 2, 3, 4}, 4);
        Tensor b = f64(new double[] {0, 0, 1, 1}, 4);
        Tensor yAffine = Functional.groupNorm(x, 2, w, b, 1e-5);
        assertClose(y.mul(w.reshape(1, 4, 1, 1)).add(b.reshape(1, 4, 1, 1)), yAffine, 1e-12);
    }

    /** Naive attention in Java loops: softmax(q k^T * scale + bias) v over [B, H, L, E]. */
    static double[] naiveAttention(double[] q, double[] k, double[] v, int bh, int lq, int lk, int e, double scale,
                                   boolean causal) {
        double[] out = new double[bh * lq * e];
        for (int n = 0; n < bh; n++) {
            for (int i = 0; i < lq; i++) {
                double[] s = new double[lk];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double dot = 0;
                    for (int d = 0; d < e; d++) dot += q[(n * lq + i) * e + d] * k[(n * lk + j) * e + d];
                    s[j] = causal && j > i ? Double.NEGATIVE_INFINITY : dot * scale;
                    max = Math.max(max, s[j]);
                }
                double z = 0;
                for (int j = 0; j < lk; j++) z += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j < lk; j++) {
                    for (int d = 0; d < e; d++) out[(n * lq + i) * e + d] += s[j] / z * v[(n * lk + j) * e + d];
                }
            }
        }
        return out;
    }

    @Test
    void attentionMatchesNaiveReferenceOnEveryCpuBackend() {
        Tensor q = seeded(3, 2, 3, 5, 8);
        Tensor k = seeded(4, 2, 3, 7, 8);
        Tensor v = seeded(5, 2, 3, 7, 8);
        double[] expected = naiveAttention(q.toDoubleArray(), k.toDoubleArray(), v.toDoubleArray(), 6, 5, 7, 8, 1 / Math.sqrt(8), false);
        for (SdpaBackend b : new SdpaBackend[] {SdpaBackend.AUTO, SdpaBackend.MATH, SdpaBackend.FLASH}) {
            try (Functional.Attention a = Functional.scaledDotProductAttention(q, k, v, null, 0, false, 0, b)) {
                assertClose(expected, a.output().flatten(), 1e-12);
                if (b != SdpaBackend.AUTO) assertEquals(b, a.backend(), "the forced backend must be the one that ran");
                else assertNotEquals(SdpaBackend.AUTO, a.backend(), "AUTO reports the kernel it chose");
            }
        }
        double[] scaled = naiveAttention(q.toDoubleArray(), k.toDoubleArray(), v.toDoubleArray(), 6, 5, 7, 8, 0.3, false);
        assertClose(scaled, Functional.scaledDotProductAttention(q, k, v, null, 0, false, 0.3, SdpaBackend.MATH).output().flatten(), 1e-12);
        Tensor qs = seeded(6, 1, 2, 6, 4);
        double[] causal = naiveAttention(qs.toDoubleArray(), qs.toDoubleArray(), qs.toDoubleArray(), 2, 6, 6, 4, 0.5, true);
        assertClose(causal, Functional.scaledDotProductAttention(qs, qs, qs, null, 0, true, 0, SdpaBackend.MATH).output().flatten(), 1e-12);
        Tensor keep = Tensor.ones(new long[] {6, 6}, DType.BOOL, Device.CPU).tril(0);
        assertClose(causal, Functional.scaledDotProductAttention(qs, qs, qs, keep, 0, false, 0, SdpaBackend.MATH).output().flatten(), 1e-12);
    }

    @Test
    void cpuHasNoCudaOnlyAttentionKernels() {
        Tensor q = seeded(3, 1, 1, 4, 8).to(DType.FLOAT32);
        for (SdpaBackend b : new SdpaBackend[] {SdpaBackend.EFFICIENT, SdpaBackend.CUDNN}) {
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> Functional.scaledDotProductAttention(q, q, q, null, 0, false, 0, b));
            assertFalse(e.getMessage().isBlank());
        }
    }

    /** Direct convolution in loops: x [N, C, H, W], w [O, C/groups, kh, kw]. */
    static double[] naiveConv2d(double[] x, int n, int c, int h, int wd, double[] w, int o, int kh, int kw, double[] bias,
                                int stride, int pad, int groups) {
        int oh = (h + 2 * pad - kh) / stride + 1, ow = (wd + 2 * pad - kw) / stride + 1;
        int cg = c / groups, og = o / groups;
        double[] out = new double[n * o * oh * ow];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++) {
                        double s = bias == null ? 0 : bias[oc];
                        int g = oc / og;
                        for (int ic = 0; ic < cg; ic++)
                            for (int u = 0; u < kh; u++)
                                for (int v = 0; v < kw; v++) {
                                    int yi = i * stride - pad + u, xj = j * stride - pad + v;
                                    if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
                                    s += x[((b * c + g * cg + ic) * h + yi) * wd + xj] * w[((oc * cg + ic) * kh + u) * kw + v];
                                }
                        out[((b * o + oc) * oh + i) * ow + j] = s;
                    }
        return out;
    }

    @Test
    void conv2dPlainGroupedAndDepthwise() {
        Tensor x = seeded(7, 2, 4, 5, 5);
        Tensor w = seeded(8, 6, 4, 3, 3);
        Tensor b = seeded(9, 6);
        assertClose(naiveConv2d(x.toDoubleArray(), 2, 4, 5, 5, w.toDoubleArray(), 6, 3, 3, b.toDoubleArray(), 2, 1, 1),
                Functional.conv2d(x, w, b, 2, 1, 1).flatten(), 1e-12);
        Tensor wg = seeded(10, 6, 2, 3, 3);
        assertClose(naiveConv2d(x.toDoubleArray(), 2, 4, 5, 5, wg.toDoubleArray(), 6, 3, 3, null, 1, 1, 2),
                Functional.conv2d(x, wg, null, 1, 1, 2).flatten(), 1e-12);
        Tensor wd = seeded(11, 4, 1, 5, 5);
        assertClose(naiveConv2d(x.toDoubleArray(), 2, 4, 5, 5, wd.toDoubleArray(), 4, 5, 5, null, 1, 2, 4),
                Functional.conv2d(x, wd, null, 1, 2, 4).flatten(), 1e-12);
    }

    @Test
    void convTransposeIsTheAdjointOfConv() {
        // <conv(x), y> == <x, convT(y)> for the same weight: the defining property of the transpose.
        Tensor x = seeded(12, 1, 3, 6, 6);
        Tensor w = seeded(13, 4, 3, 3, 3);
        long[] s = {2, 2}, p = {1, 1}, d = {1, 1};
        Tensor y = Functional.conv2d(x, w, null, s, p, d, 1);
        Tensor r = seeded(14, y.shape());
        Tensor xt = Functional.convTranspose2d(r, w, null, s, p, new long[] {1, 1}, d, 1);
        assertArrayEquals(x.shape(), xt.shape());
        assertEquals(y.mul(r).sum().item(), x.mul(xt).sum().item(), 1e-10);
        Tensor bias = f64(new double[] {1, 2, 3}, 3);
        Tensor withBias = Functional.convTranspose2d(r, w, bias, s, p, new long[] {1, 1}, d, 1);
        assertClose(xt.add(bias.reshape(1, 3, 1, 1)), withBias, 1e-12);
    }

    @Test
    void pixelShuffleMovesChannelsIntoSpace() {
        Tensor x = Tensor.arange(0, 8, 1, DType.FLOAT64, Device.CPU).reshape(1, 4, 1, 2);
        Tensor y = Functional.pixelShuffle(x, 2);
        assertArrayEquals(new long[] {1, 1, 2, 4}, y.shape());
        // out[0,0,2i+a,2j+b] = in[0, 2a+b, i, j]
        assertClose(new double[] {0, 2, 1, 3, 4, 6, 5, 7}, y.flatten(), 0);
        assertClose(x, Functional.pixelUnshuffle(y, 2), 0);
    }

    @Test
    void interpolateNearestAndBilinear() {
        Tensor x = f64(new double[] {1, 2, 3, 4}, 1, 1, 2, 2);
        assertClose(new double[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
                Functional.interpolate(x, 4, 4, Functional.Interpolation.NEAREST, false).flatten(), 0);
        assertClose(new double[] {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4},
                Functional.interpolate(x, 3, 3, Functional.Interpolation.BILINEAR, true).flatten(), 1e-12);
        assertClose(new double[] {1, 1.25, 1.75, 2}, Functional.interpolate(x, 2, 4, Functional.Interpolation.BILINEAR, false)
                .select(2, 0).flatten(), 1e-12);
    }

    @Test
    void embeddingPicksRows() {
        Tensor w = Tensor.arange(0, 6, 1, DType.FLOAT64, Device.CPU).reshape(3, 2);
        assertClose(new double[] {4, 5, 0, 1, 4, 5}, Functional.embedding(w, Tensor.of(new long[] {2, 0, 2}, 3)).flatten(), 0);
    }

    @Test
    void dropoutZeroesAndRescales() {
        Torch.manualSeed(5);
        Tensor x = Tensor.ones(new long[] {10000}, DType.FLOAT64, Device.CPU);
        double[] y = Functional.dropout(x, 0.25, true).toDoubleArray();
        long zeros = java.util.Arrays.stream(y).filter(v -> v == 0).count();
        assertEquals(2500, zeros, 200);
        assertTrue(java.util.Arrays.stream(y).allMatch(v -> v == 0 || Math.abs(v - 1 / 0.75) < 1e-12));
        assertClose(x, Functional.dropout(x, 0.25, false), 0);
    }

    @Test
    void lossesMatchTheirDefinitions() {
        Tensor a = f64(new double[] {1, 2, 3, 4}, 2, 2);
        Tensor b = f64(new double[] {0, 2, 5, 1}, 2, 2);
        assertEquals((1 + 0 + 4 + 9) / 4.0, Functional.mseLoss(a, b, Reduction.MEAN).item(), 1e-15);
        assertEquals(14, Functional.mseLoss(a, b, Reduction.SUM).item(), 1e-15);
        assertClose(new double[] {1, 0, 4, 9}, Functional.mseLoss(a, b, Reduction.NONE).flatten(), 0);
        Tensor logits = f64(new double[] {2, 0.5, -1, 0, 1, 3}, 2, 3);
        Tensor target = Tensor.of(new long[] {0, 2}, 2);
        double l0 = -Math.log(Math.exp(2) / (Math.exp(2) + Math.exp(0.5) + Math.exp(-1)));
        double l1 = -Math.log(Math.exp(3) / (Math.exp(0) + Math.exp(1) + Math.exp(3)));
        assertEquals((l0 + l1) / 2, Functional.crossEntropy(logits, target, Reduction.MEAN, 0).item(), 1e-12);
        // label smoothing eps: (1-eps) * nll + eps * mean over classes of -log p
        double eps = 0.1;
        Tensor logp = Functional.logSoftmax(logits, 1);
        double smooth = -logp.mean(1, false).mean().item();
        assertEquals((1 - eps) * (l0 + l1) / 2 + eps * smooth, Functional.crossEntropy(logits, target, Reduction.MEAN, eps).item(), 1e-12);
    }

    @Test
    void averagePooling() {
        Tensor x = Tensor.arange(0, 16, 1, DType.FLOAT64, Device.CPU).reshape(1, 1, 4, 4);
        assertClose(new double[] {2.5, 4.5, 10.5, 12.5}, Functional.avgPool2d(x, 2, 2).flatten(), 0);
    }
}
