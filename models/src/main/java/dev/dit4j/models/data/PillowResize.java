package dev.dit4j.models.data;

/**
 * Image resizing exactly as Pillow's Image.resize does it for 8-bit images, so that the
 * ADM/DiT preprocessing gives the same pixels here as in the reference code: a separable
 * convolution, horizontal pass then vertical, with coefficients in 22-bit fixed point and
 * rounding to 8 bits after each pass (Pillow's libImaging/Resample.c).
 */
public final class PillowResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PillowResize() {}

    enum Filter {
        BOX(0.5) {
            @Override
            double weight(double x) {
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            }
        },
        BICUBIC(2.0) {
            @Override
            double weight(double x) {
                final double a = -0.5;
                x = Math.abs(x);
                if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
                return 0.0;
            }
        };

        final double support;

        Filter(double support) {
            this.support = support;
        }

        abstract double weight(double x);
    }

    /** 8-bit pixels, {@code channels} interleaved per pixel, rows top to bottom. */
    public record Pixels(int width, int height, int channels, byte[] data) {
        public Pixels {
            if (data.length != width * height * channels) throw new IllegalArgumentException("pixel buffer has the wrong size");
        }

        /** Channel {@code c} of the pixel at ({@code x}, {@code y}), 0 to 255. */
        public int at(int x, int y, int c) {
            return data[(y * width + x) * channels + c] & 0xff;
        }
    }

    static Pixels resize(Pixels in, int width, int height, Filter filter) {
        if (width < 1 || height < 1) throw new IllegalArgumentException("cannot resize to " + width + "x" + height);
        Pixels out = in;
        if (width != in.width()) out = horizontal(out, width, filter);
        if (height != in.height()) out = vertical(out, height, filter);
        return out;
    }

    /** For each output position: the first input used, how many, and their fixed-point weights. */
    private record Kernel(int[] first, int[] count, int[] weights, int size) {}

    private static Kernel kernel(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int size = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outSize];
        int[] count = new int[outSize];
        int[] weights = new int[outSize * size];
        double[] w = new double[size];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double sum = 0;
            double ss = 1.0 / filterScale; // multiplied, not divided, to round as Pillow does
            for (int x = 0; x < xmax; x++) {
                w[x] = filter.weight((x + xmin - center + 0.5) * ss);
                sum += w[x];
            }
            for (int x = 0; x < xmax; x++) {
                double k = sum != 0.0 ? w[x] / sum : w[x];
                weights[xx * size + x] = (int) (k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS));
            }
            first[xx] = xmin;
            count[xx] = xmax;
        }
        return new Kernel(first, count, weights, size);
    }

    private static byte clip8(int accumulated) {
        int v = accumulated >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    private static Pixels horizontal(Pixels in, int width, Filter filter) {
        Kernel k = kernel(in.width(), width, filter);
        int ch = in.channels();
        int size = k.size();
        int[] first = k.first();
        int[] count = k.count();
        int[] weights = k.weights();
        byte[] src = in.data();
        byte[] out = new byte[width * in.height() * ch];
        int half = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < in.height(); y++) {
            int row = y * in.width() * ch;
            for (int xx = 0; xx < width; xx++) {
                int from = row + first[xx] * ch;
                int to = (y * width + xx) * ch;
                int taps = count[xx];
                int kw = xx * size;
                if (ch == 3) { // RGB, the common case, kept in registers
                    int r = half, g = half, b = half;
                    for (int x = 0, i = from; x < taps; x++, i += 3) {
                        int w = weights[kw + x];
                        r += (src[i] & 0xff) * w;
                        g += (src[i + 1] & 0xff) * w;
                        b += (src[i + 2] & 0xff) * w;
                    }
                    out[to] = clip8(r);
                    out[to + 1] = clip8(g);
                    out[to + 2] = clip8(b);
                    continue;
                }
                for (int c = 0; c < ch; c++) {
                    int acc = half;
                    for (int x = 0; x < taps; x++) acc += (src[from + x * ch + c] & 0xff) * weights[kw + x];
                    out[to + c] = clip8(acc);
                }
            }
        }
        return new Pixels(width, in.height(), ch, out);
    }

    private static Pixels vertical(Pixels in, int height, Filter filter) {
        Kernel k = kernel(in.height(), height, filter);
        int stride = in.width() * in.channels();
        int size = k.size();
        byte[] src = in.data();
        byte[] out = new byte[stride * height];
        int[] acc = new int[stride];
        // Row by row, so the inner loop runs over contiguous memory.
        for (int yy = 0; yy < height; yy++) {
            java.util.Arrays.fill(acc, 1 << (PRECISION_BITS - 1));
            for (int y = 0; y < k.count()[yy]; y++) {
                int w = k.weights()[yy * size + y];
                int from = (k.first()[yy] + y) * stride;
                for (int i = 0; i < stride; i++) acc[i] += (src[from + i] & 0xff) * w;
            }
            for (int i = 0; i < stride; i++) out[yy * stride + i] = clip8(acc[i]);
        }
        return new Pixels(in.width(), height, in.channels(), out);
    }

    /**
     * CLIP's preprocessing of an 8-bit image, as transformers' CLIPImageProcessor does it with PIL
     * (and open_clip's Resize + CenterCrop): the short side scaled to {@code size} with BICUBIC, the
     * long side to {@code int(size * long / short)}, then the centre square, its corner at
     * ({@code (w - size) / 2}, {@code (h - size) / 2}) rounded down.
     */
    public static Pixels shortSideCenterCrop(Pixels image, int size) {
        if (size < 1) throw new IllegalArgumentException("cannot crop to " + size);
        int w = image.width(), h = image.height();
        int shortSide = Math.min(w, h), longSide = Math.max(w, h);
        int scaledLong = (int) ((double) size * longSide / shortSide);
        Pixels p = w <= h ? resize(image, size, scaledLong, Filter.BICUBIC) : resize(image, scaledLong, size, Filter.BICUBIC);
        return crop(p, (p.width() - size) / 2, (p.height() - size) / 2, size);
    }

    private static Pixels crop(Pixels p, int left, int top, int size) {
        int ch = p.channels();
        byte[] out = new byte[size * size * ch];
        for (int y = 0; y < size; y++) {
            System.arraycopy(p.data(), ((top + y) * p.width() + left) * ch, out, y * size * ch, size * ch);
        }
        return new Pixels(size, size, ch, out);
    }

    /**
     * ADM's center_crop_arr, which DiT uses: halve with BOX while the short side is at least
     * twice the target, scale the short side to the target with BICUBIC (the long side rounded
     * half to even, as Python's round), then cut the centre square.
     */
    public static Pixels centerCrop(Pixels image, int size) {
        Pixels p = image;
        while (Math.min(p.width(), p.height()) >= 2 * size) p = resize(p, p.width() / 2, p.height() / 2, Filter.BOX);
        double scale = (double) size / Math.min(p.width(), p.height());
        p = resize(p, (int) Math.rint(p.width() * scale), (int) Math.rint(p.height() * scale), Filter.BICUBIC);
        return crop(p, (p.width() - size) / 2, (p.height() - size) / 2, size);
    }
}
