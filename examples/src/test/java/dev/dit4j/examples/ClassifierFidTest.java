package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.eval.FeatureStatistics;
import dev.dit4j.models.eval.FrechetDistance;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import org.junit.jupiter.api.Test;

/** The main job's FID on the classifier's features, on a small random classifier and random "images" (not the 11-minute job). */
class ClassifierFidTest {
    @Test
    void scoresSamplesAndTheFloorOnThePenultimateFeatures() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.create(5, Device.CPU);
             ImageClassifier judge = ImageClassifier.create(1, 3, Device.CPU, 1)) {
            int n = 150;
            Tensor images = Tensor.rand(new long[] {n, 1, 32, 32}, DType.FLOAT32, Device.CPU, g).mul(2).sub(1);
            long[] y = new long[n];
            for (int i = 0; i < n; i++) y[i] = (i * 7) % 3;
            Tensor labels = Tensor.of(y, n);

            Tensor f = judge.features(images.narrow(0, 0, 4));
            assertArrayEquals(new long[] {4, ImageClassifier.FEATURES}, f.shape());
            assertTrue(judge.forward(images.narrow(0, 0, 4)).allclose(f.matmul(judge.namedParameters().get("fc2.weight").transpose(0, 1))
                    .add(judge.namedParameters().get("fc2.bias")), 1e-5, 1e-6), "fc2 of the features are the logits");

            ClassifierFid fid = ClassifierFid.of(judge, images, labels, 3, 20);
            assertEquals(n - 60, fid.referenceCount());
            // the floor set: the first 20 of each class in index order; the reference: the rest
            long[] floorIndex = new long[60], refIndex = new long[n - 60];
            int[] taken = new int[3];
            int a = 0, b = 0;
            for (int i = 0; i < n; i++) {
                if (taken[(int) y[i]]++ < 20) floorIndex[a++] = i;
                else refIndex[b++] = i;
            }
            FeatureStatistics ref = direct(judge.features(images.indexSelect(0, Tensor.of(refIndex, refIndex.length))));
            FeatureStatistics floor = direct(judge.features(images.indexSelect(0, Tensor.of(floorIndex, 60))));
            double expectedFloor = FrechetDistance.between(floor, ref);
            assertEquals(expectedFloor, fid.floor(), 1e-6 * expectedFloor);

            Tensor samples = Tensor.rand(new long[] {30, 1, 32, 32}, DType.FLOAT32, Device.CPU, g).mul(1.5).sub(1);
            double expected = FrechetDistance.between(direct(judge.features(samples)), ref);
            double got = fid.of(samples);
            assertEquals(expected, got, 1e-6 * expected);
            assertTrue(got > expectedFloor, "shifted samples score above real images: " + got + " vs " + expectedFloor);
            assertEquals(String.format(java.util.Locale.ROOT, "FID (classifier features, 30 samples vs 90 test images): %.2f", got), fid.sampleLine(30, got));
            assertTrue(fid.floorLine().startsWith("FID (classifier features, 60 other real test images vs the same 90"), fid.floorLine());

            assertThrows(IllegalArgumentException.class, () -> ClassifierFid.of(judge, images, labels, 3, 60), "too few of a class");
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    private static FeatureStatistics direct(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor d = x.to(DType.FLOAT64);
            Tensor mu = d.mean(0, false);
            Tensor c = d.sub(mu);
            Tensor sigma = c.transpose(0, 1).mm(c).div(x.size(0) - 1);
            return FeatureStatistics.of(mu, sigma, "direct");
        }
    }
}
