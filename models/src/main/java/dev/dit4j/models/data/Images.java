package dev.dit4j.models.data;

import dev.dit4j.nn.Tensor;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;

/**
 * Pixels between bytes and the [-1, 1] floats the models see, and PNG grids of samples. The
 * conversions are torchvision's: ToTensor + Normalize(0.5, 0.5) one way, save_image's
 * clamp(127.5 x + 128) truncated to a byte the other.
 */
public final class Images {
    /** torchvision's default between cells of a grid. */
    public static final int DEFAULT_PADDING = 2;

    private Images() {}

    /** A byte value 0..255 as a model input in [-1, 1], rounded as torchvision does it in float32. */
    public static float toSigned(int value) {
        return (value / 255f - 0.5f) / 0.5f;
    }

    /** A model output to a byte value: clamp(127.5 x + 128, 0, 255) truncated; NaN gives 0. */
    public static int toByte(float x) {
        float v = 127.5f * x + 128f;
        return v >= 255f ? 255 : v > 0f ? (int) v : 0;
    }

    /** Writes images [N, C, H, W] (C = 1 or 3, values in [-1, 1]) as one PNG, {@code columns} per row. */
    public static void writeGrid(Tensor images, int columns, Path file) {
        writeGrid(images, columns, DEFAULT_PADDING, file);
    }

    /** As {@link #writeGrid(Tensor, int, Path)} with {@code padding} black pixels around and between cells. */
    public static void writeGrid(Tensor images, int columns, int padding, Path file) {
        write(grid(images, columns, padding), file);
    }

    /**
     * The grid as an image: cells of W x H laid out row by row, {@code columns} to a row (fewer
     * if there are fewer images), with {@code padding} black pixels around and between them.
     * Grey for one channel, RGB for three. The tensor may live on any device and be of any dtype.
     */
    public static BufferedImage grid(Tensor images, int columns, int padding) {
        long[] shape = images.shape();
        if (shape.length != 4 || (shape[1] != 1 && shape[1] != 3)) {
            throw new IllegalArgumentException("expected images [N, C, H, W] with C = 1 or 3, got " + Arrays.toString(shape));
        }
        if (columns < 1 || padding < 0) throw new IllegalArgumentException("columns must be >= 1 and padding >= 0");
        int n = Math.toIntExact(shape[0]);
        int channels = (int) shape[1];
        int h = Math.toIntExact(shape[2]);
        int w = Math.toIntExact(shape[3]);
        if (n == 0) throw new IllegalArgumentException("no images to draw");
        int cols = Math.min(columns, n);
        int rows = (n + cols - 1) / cols;
        Headless.ensure();
        BufferedImage out = new BufferedImage(cols * (w + padding) + padding, rows * (h + padding) + padding,
                channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        WritableRaster raster = out.getRaster();
        float[] x = images.toFloatArray();
        int plane = h * w;
        for (int i = 0; i < n; i++) {
            int left = padding + (i % cols) * (w + padding);
            int top = padding + (i / cols) * (h + padding);
            for (int c = 0; c < channels; c++) {
                int base = (i * channels + c) * plane;
                for (int r = 0; r < h; r++) {
                    for (int col = 0; col < w; col++) raster.setSample(left + col, top + r, c, toByte(x[base + r * w + col]));
                }
            }
        }
        return out;
    }

    /** Writes an image as PNG, creating parent directories. */
    public static void write(BufferedImage image, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            if (!ImageIO.write(image, "png", file.toFile())) throw new IOException("no PNG writer for " + image);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
