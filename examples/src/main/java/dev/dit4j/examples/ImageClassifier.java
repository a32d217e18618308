package dev.dit4j.examples;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Reduction;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.optim.AdamW;

/**
 * A small CNN for 1x32x32 images in [-1, 1] (two conv stages, two linear layers), used to score
 * generated samples: class accuracy is the share of samples it assigns to their conditioning class.
 */
final class ImageClassifier extends Module {
    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Linear fc1;
    private final Linear fc2;

    ImageClassifier(VarBuilder vb, int channels, int classes) {
        super(vb);
        conv1 = registerModule("conv1", Conv2d.of(channels, 32, 3).samePadding());
        conv2 = registerModule("conv2", Conv2d.of(32, 64, 3).samePadding());
        fc1 = registerModule("fc1", Linear.of(64 * 8 * 8, FEATURES));
        fc2 = registerModule("fc2", Linear.of(FEATURES, classes));
    }

    /** A new classifier with PyTorch's initialisation from {@code seed}. */
    static ImageClassifier create(int channels, int classes, Device device, long seed) {
        try (Generator g = Generator.create(seed, device)) {
            return new ImageClassifier(VarBuilder.init(DType.FLOAT32, device, g), channels, classes);
        }
    }

    /** [N, C, 32, 32] -> logits [N, classes]. */
    public Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(fc2.forward(features(x)));
        }
    }

    /** The penultimate layer: [N, C, 32, 32] -> the 128 features [N, 128] that fc2 maps to logits (after fc1 and its SiLU). */
    public Tensor features(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor h = Functional.avgPool2d(conv1.forward(x).silu(), 2, 2);
            h = Functional.avgPool2d(conv2.forward(h).silu(), 2, 2);
            return s.keep(fc1.forward(h.flatten(1, 3)).silu());
        }
    }

    /** The width of {@link #features}. */
    static final int FEATURES = 128;

    /**
     * Trains for {@code epochs} passes over (images, labels) in shuffled mini-batches; returns the
     * last epoch's mean loss, sampled every 50 batches (reading every loss would sync every step).
     */
    public double fit(Tensor images, Tensor labels, int epochs, int batch, double lr, long seed) {
        train(true);
        double last = Double.NaN;
        long n = images.size(0);
        try (AdamW opt = AdamW.of(parameters(), lr, 0); Generator g = Generator.create(seed, images.device())) {
            for (int e = 0; e < epochs; e++) {
                double sum = 0;
                int sampled = 0;
                int count = 0;
                try (Tensor perm = Tensor.randperm(n, images.device(), g)) {
                    for (long i = 0; i + batch <= n; i += batch) {
                        try (TensorScope s = TensorScope.open()) {
                            Tensor idx = perm.narrow(0, i, batch);
                            Tensor loss = Functional.crossEntropy(forward(images.indexSelect(0, idx)), labels.indexSelect(0, idx),
                                    Reduction.MEAN, 0);
                            loss.backward();
                            opt.step();
                            zeroGrad();
                            if (count++ % 50 == 0) {
                                sum += loss.item();
                                sampled++;
                            }
                        }
                    }
                }
                last = sum / Math.max(1, sampled);
            }
        }
        train(false);
        return last;
    }

    /** Predicted class per image, in batches. */
    public long[] predict(Tensor images, int batch) {
        train(false);
        long n = images.size(0);
        long[] out = new long[(int) n];
        try (var g = Autograd.noGrad()) {
            for (long i = 0; i < n; i += batch) {
                try (TensorScope s = TensorScope.open()) {
                    long len = Math.min(batch, n - i);
                    long[] p = forward(images.narrow(0, i, len)).argmax(1, false).toLongArray();
                    System.arraycopy(p, 0, out, (int) i, (int) len);
                }
            }
        }
        return out;
    }

    public void save(java.nio.file.Path file) {
        dev.dit4j.nn.io.Safetensors.save(file, stateDict());
    }

    /** The 1-channel, 10-class classifier saved by {@link #save}. */
    static ImageClassifier load(java.nio.file.Path file, Device device) {
        return load(file, 10, device);
    }

    /** The 1-channel classifier of {@code classes} classes saved by {@link #save}. */
    static ImageClassifier load(java.nio.file.Path file, int classes, Device device) {
        try (WeightSource source = Safetensors.index(file)) {
            VarBuilder vb = VarBuilder.load(source, DType.FLOAT32, device);
            ImageClassifier c = new ImageClassifier(vb, 1, classes);
            vb.finish();
            return c;
        }
    }

    /** Share of images predicted as their label. */
    public double accuracy(Tensor images, Tensor labels, int batch) {
        long[] pred = predict(images, batch);
        long[] truth = labels.toLongArray();
        int right = 0;
        for (int i = 0; i < pred.length; i++) if (pred[i] == truth[i]) right++;
        return right / (double) pred.length;
    }
}
