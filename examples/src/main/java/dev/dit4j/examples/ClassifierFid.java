package dev.dit4j.examples;

import dev.dit4j.models.eval.FeatureStatistics;
import dev.dit4j.models.eval.FidHook;
import dev.dit4j.models.eval.FrechetDistance;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * The main job's classifier-free measure: the Fréchet distance between generated and real
 * Fashion-MNIST images on the judge's own penultimate features ({@link ImageClassifier#features},
 * 128 wide) instead of the Inception's, with the library's {@link FeatureStatistics} and
 * {@link FrechetDistance}. The real test images are split in two: a class-balanced floor set
 * (the first {@code perClass} test images of each class, as many as the samples and balanced as
 * they are) and the reference (all the others). The floor set's distance to the reference is what
 * a perfect generator would score with that many samples: FID is biased upwards at small N.
 */
final class ClassifierFid {
    static final int BATCH = 500;

    private final UnaryOperator<Tensor> features;
    private final FeatureStatistics reference;
    private final double floor;
    private final int floorCount;

    private ClassifierFid(UnaryOperator<Tensor> features, FeatureStatistics reference, double floor, int floorCount) {
        this.features = features;
        this.reference = reference;
        this.floor = floor;
        this.floorCount = floorCount;
    }

    /**
     * The reference and floor from labelled real images (CPU [N, 1, 32, 32] in [-1, 1], labels [N])
     * on {@code judge}'s features; {@code perClass} of each of {@code classes} classes form the floor set.
     */
    static ClassifierFid of(ImageClassifier judge, Tensor images, Tensor labels, int classes, int perClass) {
        judge.train(false);
        Device device = judge.parameters().getFirst().device();
        UnaryOperator<Tensor> features = x -> judge.features(x.to(device));
        long[] y = labels.toLongArray();
        int[] taken = new int[classes];
        long[] floorIndex = new long[classes * perClass];
        long[] refIndex = new long[y.length];
        int f = 0, r = 0;
        for (int i = 0; i < y.length; i++) {
            int c = (int) y[i];
            if (c >= 0 && c < classes && taken[c] < perClass) {
                taken[c]++;
                floorIndex[f++] = i;
            } else {
                refIndex[r++] = i;
            }
        }
        if (f < floorIndex.length) {
            throw new IllegalArgumentException("the real images hold fewer than " + perClass + " of each of " + classes + " classes");
        }
        try (TensorScope s = TensorScope.open()) {
            Tensor ref = images.indexSelect(0, Tensor.of(java.util.Arrays.copyOf(refIndex, r), r));
            Tensor floorSet = images.indexSelect(0, Tensor.of(floorIndex, f));
            FeatureStatistics reference = FidHook.statistics(features, ref, BATCH, r + " test images");
            double floor = FrechetDistance.between(FidHook.statistics(features, floorSet, BATCH, f + " real test images"), reference);
            return new ClassifierFid(features, reference, floor, f);
        }
    }

    /** The distance of {@code samples} [N, 1, 32, 32] (any device, in [-1, 1]) to the reference. */
    double of(Tensor samples) {
        return FrechetDistance.between(FidHook.statistics(features, samples, BATCH, samples.size(0) + " samples"), reference);
    }

    /** The feature map (the judge's, on its device), for a {@link FidHook}. */
    UnaryOperator<Tensor> features() {
        return features;
    }

    FeatureStatistics reference() {
        return reference;
    }

    double floor() {
        return floor;
    }

    long referenceCount() {
        return reference.count();
    }

    /** "FID (classifier features, 100 samples vs 9900 test images): 12.34". */
    String sampleLine(long samples, double fid) {
        return String.format(Locale.ROOT, "FID (classifier features, %d samples vs %d test images): %.2f", samples, referenceCount(), fid);
    }

    /** The floor line: real images scored as the samples are. */
    String floorLine() {
        return String.format(Locale.ROOT, "FID (classifier features, %d other real test images vs the same %d, the floor at this sample size): %.2f",
                floorCount, referenceCount(), floor);
    }
}
