package example;

import dev.dit4j.models.data.Dataset;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code size} 16x16 images of a square, a circle or a cross (label = shape) at a random place and
 * size, in [-1, 1]: white on black with 1 channel, red, green or blue on black with 3. Each image
 * is drawn from its index when the loader asks for it.
 */
record Shapes(int size, int channels) implements Dataset {
    static final List<String> NAMES = List.of("square", "circle", "cross");
    static final List<String> CAPTIONS = List.of("a red square", "a green circle", "a blue cross");

    @Override
    public long[] imageShape() {
        return new long[] {channels, 16, 16};
    }

    @Override
    public List<String> classes() {
        return NAMES;
    }

    @Override
    public long label(int index) {
        return index % NAMES.size();
    }

    @Override
    public void readImage(int index, float[] chw) {
        SplittableRandom random = new SplittableRandom(index);
        int label = (int) label(index), r = 3 + random.nextInt(3), cx = r + random.nextInt(16 - 2 * r), cy = r + random.nextInt(16 - 2 * r);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                int dx = Math.abs(x - cx), dy = Math.abs(y - cy);
                boolean inside = switch (label) {
                    case 0 -> dx <= r && dy <= r;
                    case 1 -> dx * dx + dy * dy <= r * r;
                    default -> dx <= 1 && dy <= r || dy <= 1 && dx <= r;
                };
                for (int c = 0; c < channels; c++) chw[(c * 16 + y) * 16 + x] = inside && (channels == 1 || c == label) ? 1 : -1;
            }
        }
    }
}
