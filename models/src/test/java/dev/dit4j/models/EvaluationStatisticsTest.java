package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dit4j.models.eval.FeatureStatistics;
import dev.dit4j.models.eval.FrechetDistance;
import dev.dit4j.models.eval.InceptionScore;
import dev.dit4j.models.eval.PrecisionRecall;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FID against pytorch-fid's calculate_frechet_distance (scipy's sqrtm in float64), and the
 * Inception Score and k-NN precision/recall against ADM's evaluator's formulas, on the feature
 * sets of make_inception_fixtures.py.
 */
class EvaluationStatisticsTest {
    @ParameterizedTest
    @ValueSource(strings = {"regular", "near_singular", "constant_feature"})
    void frechetDistanceMatchesPytorchFid(String name) {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("fid_statistics.safetensors"); TensorScope s = TensorScope.open()) {
            var t = ref.tensors();
            double expected = t.get(name + "_fid").item();
            FeatureStatistics a = FeatureStatistics.of(t.get(name + "_mu_a"), t.get(name + "_sigma_a"), "a");
            FeatureStatistics b = FeatureStatistics.of(t.get(name + "_mu_b"), t.get(name + "_sigma_b"), "b");
            double given = FrechetDistance.between(a, b);
            assertEquals(expected, given, 1e-6 * Math.abs(expected), name + " from the given statistics");
            assertEquals(given, FrechetDistance.between(b, a), 1e-7 * Math.abs(expected), "symmetric");
            FeatureStatistics fa = accumulate(t.get(name + "_a"), 7), fb = accumulate(t.get(name + "_b"), 64);
            assertTrue(Fixtures.relativeL2(fa.sigmaTensor(), t.get(name + "_sigma_a")) < 1e-12, "covariance as numpy.cov");
            assertTrue(Fixtures.relativeL2(fa.muTensor(), t.get(name + "_mu_a")) < 1e-12, "mean");
            double fromFeatures = FrechetDistance.between(fa, fb);
            System.out.printf("FID %s: pytorch-fid %.12f, from statistics %.12f, from features %.12f%n", name, expected, given, fromFeatures);
            assertEquals(expected, fromFeatures, 1e-6 * Math.abs(expected), name + " from the features");
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    private static FeatureStatistics accumulate(Tensor features, int batch) {
        try (FeatureStatistics.Accumulator acc = new FeatureStatistics.Accumulator("features")) {
            for (long i = 0; i < features.size(0); i += batch) acc.add(features.narrow(0, i, Math.min(batch, features.size(0) - i)));
            return acc.statistics();
        }
    }

    @Test
    void inceptionScoreAndPrecisionRecallMatchAdm() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("fid_statistics.safetensors"); TensorScope s = TensorScope.open()) {
            var t = ref.tensors();
            double is = InceptionScore.of(t.get("is_logits"), Integer.parseInt(ref.metadata().get("is_split_size")));
            assertEquals(t.get("is_score").item(), is, 1e-5 * is, "Inception Score");
            assertTrue(Fixtures.relativeL2(PrecisionRecall.radii(t.get("pr_ref"), 3), t.get("pr_radii_ref")) < 1e-5, "reference radii");
            PrecisionRecall.Result pr = PrecisionRecall.of(t.get("pr_ref"), t.get("pr_sample"));
            double[] expected = t.get("pr_precision_recall").toDoubleArray();
            System.out.printf("IS %.6f (ADM %.6f); precision %.4f recall %.4f (ADM %.4f %.4f)%n", is, t.get("is_score").item(),
                    pr.precision(), pr.recall(), expected[0], expected[1]);
            assertEquals(expected[0], pr.precision(), 1e-12);
            assertEquals(expected[1], pr.recall(), 1e-12);
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void badStatisticsAreNamed() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> FeatureStatistics.of(Tensor.zeros(4), Tensor.zeros(3, 3), "ref.npz"));
            assertTrue(e.getMessage().contains("ref.npz") && e.getMessage().contains("'sigma'") && e.getMessage().contains("[3, 3]"), e.getMessage());
            Tensor nan = Tensor.zeros(2, 2).add(Double.NaN);
            e = assertThrows(IllegalArgumentException.class, () -> FeatureStatistics.of(Tensor.zeros(2), nan, "ref.npz"));
            assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
            FeatureStatistics two = FeatureStatistics.of(Tensor.zeros(2), Tensor.zeros(2, 2), "two");
            FeatureStatistics three = FeatureStatistics.of(Tensor.zeros(3), Tensor.zeros(3, 3), "three");
            e = assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(two, three));
            assertTrue(e.getMessage().contains("two has 2") && e.getMessage().contains("three has 3"), e.getMessage());
            assertEquals(0, FrechetDistance.between(two, two), 0, "all-zero covariances: the trace term is zero");
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
