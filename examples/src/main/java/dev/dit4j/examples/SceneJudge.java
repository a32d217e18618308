package dev.dit4j.examples;

import dev.dit4j.examples.FashionScenes.Prompt;
import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * t2i-demo's judge of prompt following on composed Fashion-MNIST scenes: a classifier names the
 * object in each half of a scene, the mean hue its colour; a scene follows its prompt when both
 * halves hold the stated object in the stated colour, in the stated arrangement.
 */
final class SceneJudge {
    private SceneJudge() {}

    /** Prompt-following scores: shares of items with the right object and colour, of scenes in the stated arrangement, of scenes wholly right. */
    record Score(double object, double colour, double position, double all) {
        String row(String name) {
            return String.format(Locale.ROOT, "| %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% |", name, 100 * object, 100 * colour, 100 * position, 100 * all);
        }
    }

    /**
     * The judge: the example's classifier on items seen as the judge sees generated halves (16x16,
     * grey, repeated to 32x32), one epoch over the objects' training images; kept in the output
     * folder (judge.safetensors) and reused by later runs there.
     */
    static ImageClassifier train(TensorDataset train, TensorDataset test, Path out, Device dev, long seed) {
        Path file = out.resolve("judge.safetensors");
        boolean saved = Files.exists(file);
        ImageClassifier judge = saved ? ImageClassifier.load(file, FashionScenes.CLASSES.length, dev)
                : ImageClassifier.create(1, FashionScenes.CLASSES.length, dev, seed);
        try (TensorScope s = TensorScope.open()) {
            if (!saved) {
                Tensor[] tr = judgeSet(train, JUDGE_IMAGES);
                judge.fit(tr[0].to(dev), tr[1].to(dev), 1, 128, 1e-3, seed);
                judge.save(file);
            }
            Tensor[] te = judgeSet(test, Integer.MAX_VALUE);
            System.out.printf("judge%s: %.1f%% test accuracy over the %d objects%n", saved ? " (" + file + ")" : "",
                    100 * judge.accuracy(te[0].to(dev), te[1].to(dev), 500), FashionScenes.CLASSES.length);
        }
        return judge;
    }

    /** Training images per object for the judge (a CPU budget: one epoch over them takes a minute on 2 shared cores). */
    private static final int JUDGE_IMAGES = 1500;

    /** Up to {@code perObject} images of each chosen class as the judge sees them, labels renumbered to object indices. */
    private static Tensor[] judgeSet(TensorDataset data, int perObject) {
        long[] labels = data.labels().toLongArray();
        List<Long> rows = new ArrayList<>(), objects = new ArrayList<>();
        int[] taken = new int[FashionScenes.CLASSES.length];
        for (int i = 0; i < labels.length; i++) {
            for (int o = 0; o < FashionScenes.CLASSES.length; o++) {
                if (labels[i] == FashionScenes.CLASSES[o] && taken[o]++ < perObject) {
                    rows.add((long) i);
                    objects.add((long) o);
                }
            }
        }
        Tensor index = Tensor.of(rows.stream().mapToLong(Long::longValue).toArray(), rows.size());
        Tensor images = FashionScenes.upsampled(FashionScenes.halved(data.images().indexSelect(0, index)));
        return new Tensor[] {images, Tensor.of(objects.stream().mapToLong(Long::longValue).toArray(), objects.size())};
    }

    /** How well {@code scenes} follow {@code prompts}, judged by {@code judge} (objects) and by hue (colours). */
    static Score score(Tensor scenes, List<Prompt> prompts, ImageClassifier judge) {
        long[] left, right;
        try (TensorScope s = TensorScope.open()) {
            Device dev = judge.namedParameters().values().iterator().next().device();
            left = judge.predict(FashionScenes.judgeView(scenes, 0).to(dev), 100);
            right = judge.predict(FashionScenes.judgeView(scenes, 1).to(dev), 100);
        }
        float[] rgb = scenes.toFloatArray();
        double objects = 0, colours = 0, positions = 0, all = 0;
        for (int i = 0; i < prompts.size(); i++) {
            Prompt p = prompts.get(i);
            int lc = FashionScenes.colourOf(rgb, i, 0), rc = FashionScenes.colourOf(rgb, i, 1);
            int obj = hit(left[i], p.left().object()) + hit(right[i], p.right().object());
            int col = hit(lc, p.left().colour()) + hit(rc, p.right().colour());
            int swapped = hit(left[i], p.right().object()) + hit(right[i], p.left().object()) + hit(lc, p.right().colour()) + hit(rc, p.left().colour());
            objects += obj / 2.0;
            colours += col / 2.0;
            positions += obj + col > swapped ? 1 : 0;
            all += obj + col == 4 ? 1 : 0;
        }
        int n = prompts.size();
        return new Score(objects / n, colours / n, positions / n, all / n);
    }

    private static int hit(long got, int want) {
        return got == want ? 1 : 0;
    }
}
