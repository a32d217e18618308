package dev.dit4j.examples;

import dev.dit4j.models.data.ImageFolder;
import dev.dit4j.models.data.PillowResize;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Clip art as square RGB images: the transparent PNGs of Debian's
 * {@value #DEBIAN_PACKAGE} (about 8,000 drawings in 22 category folders, 32 to ~1,100 px a side),
 * each composited on white, centred on a white square and brought to {@code size} px as ADM's
 * center_crop_arr does (BOX halvings, then BICUBIC; a square loses nothing to the crop). A drawing
 * is skipped, with the reason, when its longer side is under {@code size} (it could only be
 * upsampled), when one side is over three times the other (mostly padding), when under 1% of
 * its pixels differ from white, or when the file cannot be decoded.
 *
 * <p>The package installs the PNGs under {@link #DEBIAN_DIR}; the environment variable
 * {@value #ENV} names another folder (PNGs at any depth).
 */
final class ClipArt {
    public static final String DEBIAN_PACKAGE = "openclipart-png";
    public static final Path DEBIAN_DIR = Path.of("/usr/share/openclipart/png");
    public static final String ENV = "DIT4J_OPENCLIPART";
    private static final double MAX_ASPECT = 3;
    private static final double MIN_INK = 0.01;

    /** Thrown when no clip art is found; says what to install. */
    public static final class NotFoundException extends IllegalStateException {
        NotFoundException(String message) {
            super(message);
        }
    }

    /** Why a drawing was not used. */
    public enum Skip { SMALL, ELONGATED, BLANK, UNREADABLE }

    /** A drawing prepared as an RGB {@code image}, or not ({@code image} null) for the reason given. */
    public record Prepared(Path source, BufferedImage image, Skip skipped, String reason) {
        static Prepared skip(Path source, Skip why, String reason) {
            return new Prepared(source, null, why, reason);
        }
    }

    private ClipArt() {}

    /** The clip art folder: {@value #ENV} if set, else Debian's; throws NotFoundException with the fix. */
    public static Path locate() {
        return locate(System.getenv(ENV), DEBIAN_DIR);
    }

    static Path locate(String override, Path debianDir) {
        boolean overridden = override != null && !override.isBlank();
        Path dir = overridden ? Path.of(override) : debianDir;
        if (Files.isDirectory(dir)) return dir;
        throw new NotFoundException("clip art not found: " + (overridden ? ENV + "=" + dir : dir.toString()) + " is not a folder. Install "
                + "Debian's package: 'sudo apt-get install " + DEBIAN_PACKAGE + "', or set " + ENV + " (or pass --images) to a folder of PNG files");
    }

    /** The PNG files under {@code root} at any depth, sorted; none is an error naming the folder. */
    public static List<Path> list(Path root) {
        if (!Files.isDirectory(root)) throw new IllegalArgumentException(root + " is not a folder");
        List<Path> files = dev.dit4j.nn.io.InputFiles.walk(root, "image folder", p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"));
        if (files.isEmpty()) throw new IllegalArgumentException(root + " holds no .png files");
        return files;
    }

    /** The drawing in {@code file} as a {@code size} x {@code size} RGB image on white, or the reason it is skipped. */
    public static Prepared prepare(Path file, int size) {
        int[] dims;
        BufferedImage image;
        try {
            dims = dimensions(file); // the header alone: most drawings are skipped as small without decoding them
            int longer = Math.max(dims[0], dims[1]), shorter = Math.min(dims[0], dims[1]);
            if (longer < size) return Prepared.skip(file, Skip.SMALL, dims[0] + "x" + dims[1] + " is smaller than " + size + " px");
            if (longer > MAX_ASPECT * shorter) return Prepared.skip(file, Skip.ELONGATED, dims[0] + "x" + dims[1] + " is too elongated");
            image = ImageFolder.decode(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            return Prepared.skip(file, Skip.UNREADABLE, e.getMessage());
        }
        PillowResize.Pixels square = PillowResize.centerCrop(onWhiteSquare(image), size);
        if (ink(square) < MIN_INK) return Prepared.skip(file, Skip.BLANK, "nearly blank on white");
        return new Prepared(file, toImage(square), null, null);
    }

    private static int[] dimensions(Path file) {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true"); // no display on training machines
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new IOException("cannot open it");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IllegalArgumentException(file + " is not an image that javax.imageio can read");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int[] dims = {reader.getWidth(0), reader.getHeight(0)};
                dev.dit4j.nn.io.InputFiles.checkImageSize(file, dims[0], dims[1]);
                return dims;
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The image alpha-composited on white (each channel c a / 255 + 255 (1 - a / 255), rounded),
     * centred on a white square of its longer side. Grey and RGB components are used as stored,
     * as {@link ImageFolder} does (getRGB would put grey through a gamma curve).
     */
    static PillowResize.Pixels onWhiteSquare(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight(), side = Math.max(w, h);
        int left = (side - w) / 2, top = (side - h) / 2;
        byte[] out = new byte[side * side * 3];
        java.util.Arrays.fill(out, (byte) 255);
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        boolean grey = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        boolean components = cm instanceof ComponentColorModel && (grey || cm.getColorSpace().isCS_sRGB());
        int bands = raster.getNumBands(), shift = Math.max(cm.getComponentSize(0) - 8, 0);
        int[] row = new int[w * bands], argb = new int[w], rgb = new int[3];
        for (int y = 0; y < h; y++) {
            if (components) raster.getPixels(0, y, w, 1, row);
            else image.getRGB(0, y, w, 1, argb, 0, w);
            for (int x = 0; x < w; x++) {
                int a;
                if (components) {
                    for (int c = 0; c < 3; c++) rgb[c] = row[x * bands + (grey ? 0 : c)] >> shift;
                    a = cm.hasAlpha() ? row[x * bands + bands - 1] >> shift : 255;
                } else {
                    for (int c = 0; c < 3; c++) rgb[c] = (argb[x] >> (16 - 8 * c)) & 0xff;
                    a = argb[x] >>> 24;
                }
                int i = ((top + y) * side + left + x) * 3;
                for (int c = 0; c < 3; c++) out[i + c] = (byte) ((rgb[c] * a + 255 * (255 - a) + 127) / 255);
            }
        }
        return new PillowResize.Pixels(side, side, 3, out);
    }

    /** The share of pixels with some channel below 245: how much of the square the drawing covers. */
    private static double ink(PillowResize.Pixels p) {
        byte[] d = p.data();
        int marked = 0, n = p.width() * p.height();
        for (int i = 0; i < n; i++) {
            if ((d[3 * i] & 0xff) < 245 || (d[3 * i + 1] & 0xff) < 245 || (d[3 * i + 2] & 0xff) < 245) marked++;
        }
        return (double) marked / n;
    }

    private static BufferedImage toImage(PillowResize.Pixels p) {
        BufferedImage image = new BufferedImage(p.width(), p.height(), BufferedImage.TYPE_3BYTE_BGR);
        byte[] bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        byte[] rgb = p.data();
        for (int i = 0; i < rgb.length; i += 3) {
            bgr[i] = rgb[i + 2];
            bgr[i + 1] = rgb[i + 1];
            bgr[i + 2] = rgb[i];
        }
        return image;
    }
}
