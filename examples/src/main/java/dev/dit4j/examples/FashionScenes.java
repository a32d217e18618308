package dev.dit4j.examples;

import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Composed captions over real Fashion-MNIST items: two items, each tinted one colour, on the left
 * and right halves of a black 3x32x32 canvas ("a red sneaker left of a blue bag"). One colour per
 * object never appears in training ({@link #heldOut}); captions with such a pair are the unseen
 * prompts. Items are Fashion-MNIST's 32x32 images halved to 16x16 and centred in their half.
 */
final class FashionScenes {
    /** The objects: Fashion-MNIST classes that a small classifier tells apart reliably. */
    static final List<String> OBJECTS = List.of("t-shirt", "trousers", "dress", "sneaker", "bag", "boot");
    static final int[] CLASSES = {0, 1, 3, 7, 8, 9};
    static final List<String> COLOURS = List.of("red", "yellow", "green", "blue");
    /** Each colour's RGB (its largest channel 1, so the item's grey level is the canvas's max channel) and hue in degrees. */
    static final float[][] RGB = {{1, 0, 0}, {1, 1, 0}, {0, 1, 0}, {0, 0.25f, 1}};
    static final double[] HUE = {0, 60, 120, 225};
    static final int SIZE = 32, ITEM = 16;

    /** One item: object and colour indices. */
    record Item(int object, int colour) {}

    /** A caption and the scene it describes. */
    record Prompt(String caption, Item left, Item right) {
        boolean unseen() {
            return heldOut(left) || heldOut(right);
        }
    }

    /** The held-out pairs: object i in colour i mod 4 (each object keeps three colours, each colour at least four objects). */
    static boolean heldOut(Item item) {
        return item.colour() == item.object() % COLOURS.size();
    }

    /** Every caption of two different objects, in both phrasings ("A left of B" and "B right of A"). */
    static List<Prompt> allPrompts() {
        List<Prompt> all = new ArrayList<>();
        for (int lo = 0; lo < OBJECTS.size(); lo++) {
            for (int lc = 0; lc < COLOURS.size(); lc++) {
                for (int ro = 0; ro < OBJECTS.size(); ro++) {
                    if (ro == lo) continue;
                    for (int rc = 0; rc < COLOURS.size(); rc++) {
                        Item l = new Item(lo, lc), r = new Item(ro, rc);
                        all.add(new Prompt("a " + name(l) + " left of a " + name(r), l, r));
                        all.add(new Prompt("a " + name(r) + " right of a " + name(l), l, r));
                    }
                }
            }
        }
        return all;
    }

    static String name(Item item) {
        return COLOURS.get(item.colour()) + " " + OBJECTS.get(item.object());
    }

    private final float[][] items; // per object: its images' 16x16 grey levels in [0, 1], one after another
    private final Random random;

    /** The items of {@code data} (Fashion-MNIST [N, 1, 32, 32] in [-1, 1]) for the chosen classes. */
    FashionScenes(TensorDataset data, long seed) {
        long[] labels = data.labels().toLongArray();
        float[] grey;
        try (TensorScope s = TensorScope.open()) {
            grey = halved(data.images()).add(1).mul(0.5).toFloatArray();
        }
        int px = ITEM * ITEM;
        items = new float[CLASSES.length][];
        for (int o = 0; o < CLASSES.length; o++) {
            int count = 0;
            for (long y : labels) if (y == CLASSES[o]) count++;
            items[o] = new float[count * px];
            int k = 0;
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == CLASSES[o]) System.arraycopy(grey, i * px, items[o], px * k++, px);
            }
        }
        random = new Random(seed);
    }

    /** Images [N, 1, 32, 32] halved to [N, 1, 16, 16]. */
    static Tensor halved(Tensor images) {
        return Functional.avgPool2d(images, 2, 2);
    }

    /** Scenes [N, 3, 32, 32] in [-1, 1] of {@code prompts}, each item a random image of its class. */
    Tensor render(List<Prompt> prompts) {
        int n = prompts.size(), plane = SIZE * SIZE;
        float[] canvas = new float[n * 3 * plane];
        for (int i = 0; i < n; i++) {
            Prompt p = prompts.get(i);
            draw(canvas, i, p.left(), 0);
            draw(canvas, i, p.right(), ITEM);
        }
        for (int i = 0; i < canvas.length; i++) canvas[i] = 2 * canvas[i] - 1;
        return Tensor.of(canvas, n, 3, SIZE, SIZE);
    }

    private void draw(float[] canvas, int sample, Item item, int x0) {
        float[] pool = items[item.object()];
        int px = ITEM * ITEM, pick = random.nextInt(pool.length / px), y0 = (SIZE - ITEM) / 2;
        for (int c = 0; c < 3; c++) {
            int base = (sample * 3 + c) * SIZE * SIZE;
            for (int y = 0; y < ITEM; y++) {
                for (int x = 0; x < ITEM; x++) {
                    canvas[base + (y0 + y) * SIZE + x0 + x] = RGB[item.colour()][c] * pool[pick * px + y * ITEM + x];
                }
            }
        }
    }

    /** The judge's view of a half (0 left, 1 right) of scenes [N, 3, 32, 32]: its item in grey (max channel), at 32x32 as the classifier takes. */
    static Tensor judgeView(Tensor scenes, int half) {
        try (TensorScope s = TensorScope.open()) {
            Tensor item = scenes.narrow(2, (SIZE - ITEM) / 2, ITEM).narrow(3, (long) half * ITEM, ITEM).max(1, true).values();
            return s.keep(upsampled(item));
        }
    }

    /** [N, 1, 16, 16] to [N, 1, 32, 32] by pixel repetition. */
    static Tensor upsampled(Tensor item) {
        long n = item.size(0);
        return item.reshape(n, 1, ITEM, 1, ITEM, 1).expand(n, 1, ITEM, 2, ITEM, 2).reshape(n, 1, SIZE, SIZE);
    }

    /**
     * The colour of a half (0 left, 1 right) of scene {@code i} in {@code rgb} ([N, 3, 32, 32] in
     * [-1, 1], as floats): the nearest named colour to the circular mean hue of the half's pixels,
     * each weighted by its saturation times value; -1 when the half is black.
     */
    static int colourOf(float[] rgb, int i, int half) {
        int plane = SIZE * SIZE;
        double sx = 0, sy = 0;
        for (int y = 0; y < SIZE; y++) {
            for (int x = half * ITEM; x < (half + 1) * ITEM; x++) {
                int at = i * 3 * plane + y * SIZE + x;
                double r = (rgb[at] + 1) / 2, g = (rgb[at + plane] + 1) / 2, b = (rgb[at + 2 * plane] + 1) / 2;
                double max = Math.max(r, Math.max(g, b)), min = Math.min(r, Math.min(g, b));
                if (max < 0.2 || max - min < 1e-6) continue;
                double h = Math.toRadians(hue(r, g, b, max, min)), w = max - min; // saturation x value
                sx += w * Math.cos(h);
                sy += w * Math.sin(h);
            }
        }
        if (sx == 0 && sy == 0) return -1;
        double mean = Math.toDegrees(Math.atan2(sy, sx));
        int best = 0;
        for (int c = 1; c < HUE.length; c++) if (angle(mean, HUE[c]) < angle(mean, HUE[best])) best = c;
        return best;
    }

    private static double hue(double r, double g, double b, double max, double min) {
        double d = max - min, h;
        if (max == r) h = 60 * (((g - b) / d) % 6);
        else if (max == g) h = 60 * ((b - r) / d + 2);
        else h = 60 * ((r - g) / d + 4);
        return h < 0 ? h + 360 : h;
    }

    private static double angle(double a, double b) {
        double d = Math.abs(a - b) % 360;
        return Math.min(d, 360 - d);
    }
}
