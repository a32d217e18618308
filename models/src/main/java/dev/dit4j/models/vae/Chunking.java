package dev.dit4j.models.vae;

/**
 * How {@link AutoencoderKL} splits work to bound memory. {@code batchSlice}: images per pass (0:
 * the whole batch). {@code tileSize}: side in image pixels of the tiles a larger image is cut into
 * (0: never tile); neighbouring tiles overlap by {@code overlap} of a tile and are blended
 * linearly across the overlap, as diffusers' tiled VAE does. Tiling changes the result slightly
 * (GroupNorm sees one tile's statistics); slicing does not.
 */
public record Chunking(int batchSlice, int tileSize, double overlap) {
    /** One pass over everything. */
    public static final Chunking NONE = new Chunking(0, 0, 0.25);

    public Chunking {
        if (batchSlice < 0) throw new IllegalArgumentException("batch slice must be >= 0, got " + batchSlice);
        if (tileSize < 0) throw new IllegalArgumentException("tile size must be >= 0, got " + tileSize);
        if (!(overlap >= 0 && overlap < 1)) throw new IllegalArgumentException("overlap must be in [0, 1), got " + overlap);
    }

    /** Tiles of {@code size} pixels overlapping by a quarter (diffusers' default), whole batches. */
    public static Chunking tiles(int size) {
        return new Chunking(0, size, 0.25);
    }

    /** {@code n} images per pass, no tiling. */
    public static Chunking slices(int n) {
        return new Chunking(n, 0, 0.25);
    }

    public Chunking withBatchSlice(int n) {
        return new Chunking(n, tileSize, overlap);
    }

    public Chunking withOverlap(double fraction) {
        return new Chunking(batchSlice, tileSize, fraction);
    }
}
