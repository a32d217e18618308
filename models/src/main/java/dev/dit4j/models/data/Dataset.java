package dev.dit4j.models.data;

import java.util.List;

/**
 * Labelled images of one shape, read one at a time so that {@link BatchLoader} can assemble
 * batches on its own threads. Implementations must allow {@link #readImage} and {@link #label}
 * from several threads at once.
 */
public interface Dataset {
    int size();

    /** [C, H, W], the same for every image. */
    long[] imageShape();

    List<String> classes();

    long label(int index);

    /** Writes image {@code index} as C*H*W floats (CHW order, [-1, 1] for pixels) into {@code chw}. */
    void readImage(int index, float[] chw);

    default int imageElements() {
        long[] s = imageShape();
        return Math.toIntExact(s[0] * s[1] * s[2]);
    }
}
