package dev.dit4j.models.eval;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;
import java.util.function.UnaryOperator;

/**
 * The Fréchet distance of a model's samples during training: at each call (a
 * {@link dev.dit4j.models.train.TrainingLoop.Builder#every TrainingLoop hook} every K steps) it
 * draws a sample set through {@code sampler}, maps it through {@code features} in batches and
 * compares the features' statistics with {@code reference}'s. Any feature map serves: the
 * Inception's pool3 ({@link InceptionV3#features}) for FID proper, or a small classifier's
 * penultimate layer, cheap enough to run every few hundred steps of a small model.
 *
 * <pre>{@code
 * FeatureStatistics ref = FidHook.statistics(judge::features, testImages, 500, "test images");
 * FidHook fid = new FidHook(judge::features, ref, step -> sampleImages(ema, 100), 100,
 *         r -> System.out.println("step " + r.step() + ": FID " + r.fid()));
 * TrainingLoop.builder().every(1000, fid)...;
 * fid.readings(); // (step, fid) pairs, for a plot beside the loss
 * }</pre>
 *
 * <p>The sampler should draw from fixed noise (a generator seeded the same at every call) so that
 * successive readings differ by the model alone. Features run without autograd; what the sampler
 * and the feature map make is freed after each reading.
 */
public final class FidHook implements LongConsumer {
    private final UnaryOperator<Tensor> features;
    private final FeatureStatistics reference;
    private final LongFunction<Tensor> sampler;
    private final int batch;
    private final Listener listener;
    private final List<Reading> readings = new ArrayList<>();

    /** One reading: the distance of the samples drawn after {@code step}. */
    public record Reading(long step, double fid) {}

    /** Hears each reading as it is made. */
    @FunctionalInterface
    public interface Listener {
        void read(Reading reading);
    }

    /**
     * @param features  images [B, ...] to features [B, d], d as wide as the reference's
     * @param reference statistics of the real set (see {@link #statistics})
     * @param sampler   the step to a sample set [N, ...], N at least 2
     * @param batch     images per call of {@code features}
     * @param listener  hears each reading (may be null)
     */
    public FidHook(UnaryOperator<Tensor> features, FeatureStatistics reference, LongFunction<Tensor> sampler, int batch, Listener listener) {
        if (batch < 1) throw new IllegalArgumentException("batch must be positive, got " + batch);
        this.features = Objects.requireNonNull(features, "features");
        this.reference = Objects.requireNonNull(reference, "reference");
        this.sampler = Objects.requireNonNull(sampler, "sampler");
        this.batch = batch;
        this.listener = listener;
    }

    /** Statistics of {@code features} of {@code images} [N, ...] (N at least 2), computed {@code batch} at a time without autograd. */
    public static FeatureStatistics statistics(UnaryOperator<Tensor> features, Tensor images, int batch, String source) {
        if (batch < 1) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (images.dim() < 1) throw new IllegalArgumentException(source + ": expected images [N, ...], found a scalar");
        try (var g = Autograd.noGrad(); FeatureStatistics.Accumulator acc = new FeatureStatistics.Accumulator(source)) {
            long n = images.size(0);
            for (long i = 0; i < n; i += batch) {
                try (TensorScope s = TensorScope.open()) {
                    Tensor f = features.apply(images.narrow(0, i, Math.min(batch, n - i)));
                    if (f.dim() != 2 || f.size(0) != Math.min(batch, n - i)) {
                        throw new IllegalArgumentException(source + ": the feature map must give [B, d] for B images, found "
                                + java.util.Arrays.toString(f.shape()));
                    }
                    acc.add(f);
                }
            }
            return acc.statistics();
        }
    }

    /** Samples, features and the distance to the reference after {@code step}, recorded and reported. */
    public Reading measure(long step) {
        FeatureStatistics samples;
        try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
            Tensor images = sampler.apply(step);
            samples = statistics(features, images, batch, "samples at step " + step);
        }
        Reading r = new Reading(step, FrechetDistance.between(samples, reference));
        readings.add(r);
        if (listener != null) listener.read(r);
        return r;
    }

    @Override
    public void accept(long step) {
        measure(step);
    }

    /** The readings so far, in order. */
    public List<Reading> readings() {
        return List.copyOf(readings);
    }

    /** The reference's statistics. */
    public FeatureStatistics reference() {
        return reference;
    }
}
