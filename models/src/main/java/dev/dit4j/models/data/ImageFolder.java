package dev.dit4j.models.data;

import dev.dit4j.nn.io.InputFiles;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Images stored one class per subdirectory (torchvision's ImageFolder layout, as for ImageNet):
 * classes are the subdirectory names in sorted order, images the PNG and JPEG files under each,
 * at any depth. Each image is decoded when read and given DiT's preprocessing (ADM's
 * center_crop_arr, with Pillow's resampling reproduced), then returned as RGB [3, size, size]
 * in [-1, 1]. Random flips are the {@link BatchLoader}'s job.
 *
 * <p>PNG pixels match the reference exactly. JPEG decoders differ a little between libraries,
 * so JPEG pixels may differ from Pillow's by a few levels before any resizing.
 */
public final class ImageFolder implements Dataset {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

    private final Path root;
    private final int size;
    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;

    private ImageFolder(Path root, int size, List<String> classes, List<Path> files, int[] labels) {
        this.root = root;
        this.size = size;
        this.classes = classes;
        this.files = files;
        this.labels = labels;
    }

    /** Lists the images under {@code root}; each will be read as {@code size} x {@code size}. */
    public static ImageFolder open(Path root, int size) {
        if (size < 1) throw new IllegalArgumentException("image size must be >= 1, got " + size);
        if (!Files.isDirectory(root)) throw new IllegalArgumentException(root + " is not a directory");
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                List<Path> images = imagesUnder(dir);
                if (images.isEmpty()) {
                    empty.add(dir.getFileName().toString());
                    continue;
                }
                for (Path p : images) {
                    files.add(p);
                    labels.add(classes.size());
                }
                classes.add(dir.getFileName().toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        if (!empty.isEmpty()) {
            throw new IllegalArgumentException(root + ": class directories " + empty + " hold no " + EXTENSIONS + " files");
        }
        if (classes.isEmpty()) throw new IllegalArgumentException(root + " has no class subdirectories");
        return new ImageFolder(root, size, List.copyOf(classes), List.copyOf(files),
                labels.stream().mapToInt(Integer::intValue).toArray());
    }

    private static List<Path> imagesUnder(Path dir) {
        return InputFiles.walk(dir, "image folder", ImageFolder::isImage);
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    public Path root() {
        return root;
    }

    public Path file(int index) {
        return files.get(index);
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public long[] imageShape() {
        return new long[] {3, size, size};
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public long label(int index) {
        return labels[index];
    }

    @Override
    public void readImage(int index, float[] chw) {
        try {
            toChw(PillowResize.centerCrop(readRgb(files.get(index)), size), size, chw);
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException("image " + files.get(index) + ": out of memory while decoding it (raise -Xmx, or use smaller images)", e);
        }
    }

    /** 8-bit RGB pixels [size, size, 3] as CHW floats in [-1, 1]. */
    static void toChw(PillowResize.Pixels p, int size, float[] chw) {
        int plane = size * size;
        byte[] rgb = p.data();
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) chw[c * plane + i] = Images.toSigned(rgb[i * 3 + c] & 0xff);
        }
    }

    /**
     * Decodes a file to 8-bit RGB; an unreadable, undecodable or damaged file is an error naming
     * it. A decoder's warnings count as damage: javax.imageio's JPEG reader returns a truncated
     * file's image with its missing end filled in grey, and says so only by a warning.
     */
    static PillowResize.Pixels readRgb(Path file) {
        return toRgb(decode(file));
    }

    /**
     * Decodes a file keeping its colour model (alpha included); an unreadable, undecodable or
     * damaged file (a decoder's warning counts as damage) is an error naming it.
     */
    public static BufferedImage decode(Path file) {
        Headless.ensure();
        BufferedImage image;
        InputFiles.requireRegularFile(file, "image");
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new IOException("cannot open it");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IllegalArgumentException(file + " is not an image that javax.imageio can read (PNG or JPEG)");
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                InputFiles.checkImageSize(file, reader.getWidth(0), reader.getHeight(0)); // from the header, before decoding
                image = reader.read(0);
            } catch (InputFiles.InputFileException e) {
                throw e;
            } catch (RuntimeException e) { // decoders fail on corrupt data with whatever exception their code hits
                throw new IllegalArgumentException("cannot decode image " + file + ": " + e, e);
            } catch (OutOfMemoryError e) {
                throw new IllegalArgumentException("cannot decode image " + file + ": out of memory (raise -Xmx, or use smaller images)", e);
            } finally {
                reader.dispose();
            }
            if (!warnings.isEmpty()) throw new IllegalArgumentException("image " + file + " is damaged or truncated: " + String.join("; ", warnings));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode image " + file + ": " + InputFiles.reason(e), e);
        }
        return image;
    }

    /**
     * The image as 8-bit RGB, channels as Pillow's convert("RGB") gives them: grey replicated
     * as stored (getRGB would apply a gamma curve to grey), alpha dropped.
     */
    static PillowResize.Pixels toRgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] out = new byte[w * h * 3];
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int type = cm.getColorSpace().getType();
        boolean components = cm instanceof ComponentColorModel;
        if (components && (type == ColorSpace.TYPE_GRAY || cm.getColorSpace().isCS_sRGB())) {
            int bands = raster.getNumBands();
            int shift = Math.max(cm.getComponentSize(0) - 8, 0);
            int[] row = new int[w * bands];
            for (int y = 0; y < h; y++) {
                raster.getPixels(0, y, w, 1, row);
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        int band = type == ColorSpace.TYPE_GRAY ? 0 : c;
                        out[(y * w + x) * 3 + c] = (byte) (row[x * bands + band] >> shift);
                    }
                }
            }
        } else {
            int[] argb = new int[w];
            for (int y = 0; y < h; y++) {
                image.getRGB(0, y, w, 1, argb, 0, w);
                for (int x = 0; x < w; x++) {
                    int i = (y * w + x) * 3;
                    out[i] = (byte) (argb[x] >> 16);
                    out[i + 1] = (byte) (argb[x] >> 8);
                    out[i + 2] = (byte) argb[x];
                }
            }
        }
        return new PillowResize.Pixels(w, h, 3, out);
    }
}
