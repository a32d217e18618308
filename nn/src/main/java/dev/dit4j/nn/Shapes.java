package dev.dit4j.nn;

import java.util.Arrays;

/** Small helpers for shapes given as long arrays. */
public final class Shapes {
    private Shapes() {}

    /** Number of elements; rejects negative sizes and overflow. */
    public static long numel(long... shape) {
        long n = 1;
        for (long s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, s);
        }
        return n;
    }
}
