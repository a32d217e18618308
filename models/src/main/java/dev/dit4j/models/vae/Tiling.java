package dev.dit4j.models.vae;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Batch slicing and overlapping tiles for {@link AutoencoderKL} (diffusers' tiled VAE): the input
 * is cut into tiles that start every {@code step} pixels, each tile is encoded or decoded alone,
 * each tile's top and left overlap is blended linearly with its upper and left neighbours'
 * bottom and right edges, and the tiles, cropped to the step, are put back together.
 */
final class Tiling {
    private Tiling() {}

    static Tensor encode(AutoencoderKL vae, Tensor x, Chunking c) {
        int f = vae.config().downsampling();
        return sliced(x, c.batchSlice(), part -> tiled(part, c, c.tileSize(), f, false, vae::moments));
    }

    static Tensor decode(AutoencoderKL vae, Tensor z, Chunking c) {
        int f = vae.config().downsampling();
        return sliced(z, c.batchSlice(), part -> tiled(part, c, c.tileSize() / f, f, true, vae::pixels));
    }

    private static Tensor sliced(Tensor x, int slice, UnaryOperator<Tensor> fn) {
        long n = x.size(0);
        if (slice <= 0 || n <= slice) return fn.apply(x);
        try (TensorScope s = TensorScope.open()) {
            List<Tensor> parts = new ArrayList<>();
            for (long i = 0; i < n; i += slice) parts.add(fn.apply(x.narrow(0, i, Math.min(slice, n - i))));
            return s.keep(Tensor.cat(parts, 0));
        }
    }

    /**
     * Tiles of {@code tileIn} input pixels; the output has {@code f} times (up) or 1/f (down) the
     * input's size. The blended overlap is rounded so that a step of output pixels is a whole
     * number of input pixels.
     */
    static Tensor tiled(Tensor x, Chunking c, int tileIn, int f, boolean up, UnaryOperator<Tensor> fn) {
        long h = x.size(2), w = x.size(3);
        if (c.tileSize() <= 0 || (h <= tileIn && w <= tileIn)) return fn.apply(x);
        if (c.tileSize() % f != 0 || c.tileSize() < 2 * f) {
            throw new IllegalArgumentException("tile size " + c.tileSize() + " must be a multiple of " + f + " and at least " + 2 * f);
        }
        int tileOut = up ? tileIn * f : tileIn / f;
        int unit = up ? f : 1;
        int blend = (int) Math.round(tileOut * c.overlap() / unit) * unit;
        int stepOut = tileOut - blend;
        int stepIn = up ? stepOut / f : stepOut * f;
        try (TensorScope s = TensorScope.open()) {
            List<List<Tensor>> rows = new ArrayList<>();
            for (long i = 0; i < h; i += stepIn) {
                List<Tensor> row = new ArrayList<>();
                for (long j = 0; j < w; j += stepIn) {
                    row.add(fn.apply(x.narrow(2, i, Math.min(tileIn, h - i)).narrow(3, j, Math.min(tileIn, w - j))));
                }
                rows.add(row);
            }
            List<Tensor> stripes = new ArrayList<>();
            for (int i = 0; i < rows.size(); i++) {
                List<Tensor> row = rows.get(i);
                List<Tensor> cropped = new ArrayList<>();
                for (int j = 0; j < row.size(); j++) {
                    Tensor tile = row.get(j);
                    if (i > 0) blend(rows.get(i - 1).get(j), tile, 2, blend);
                    if (j > 0) blend(row.get(j - 1), tile, 3, blend);
                    cropped.add(tile.narrow(2, 0, Math.min(stepOut, tile.size(2))).narrow(3, 0, Math.min(stepOut, tile.size(3))));
                }
                stripes.add(Tensor.cat(cropped, 3));
            }
            return s.keep(Tensor.cat(stripes, 2));
        }
    }

    /** b's first e rows (dim 2) or columns (dim 3) become a's last e, weighted 1 - k/e, plus b's, weighted k/e. */
    private static void blend(Tensor a, Tensor b, int dim, int extent) {
        int e = (int) Math.min(extent, Math.min(a.size(dim), b.size(dim)));
        if (e <= 0) return;
        try (TensorScope s = TensorScope.open()) {
            long[] rampShape = dim == 2 ? new long[] {1, 1, e, 1} : new long[] {1, 1, 1, e};
            Tensor ramp = Tensor.arange(0, e, 1, b.dtype(), b.device()).div(e).reshape(rampShape);
            Tensor head = b.narrow(dim, 0, e);
            Tensor mixed = a.narrow(dim, a.size(dim) - e, e).mul(ramp.rsub(1)).add(head.mul(ramp));
            head.copy_(mixed);
        }
    }
}
