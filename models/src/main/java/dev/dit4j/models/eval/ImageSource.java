package dev.dit4j.models.eval;

import dev.dit4j.models.data.ImageFolder;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Images to evaluate, in batches of uint8 [B, H, W, 3]: an ADM {@code .npz} (its {@code arr_0},
 * streamed) or a folder of .png/.jpg files (sorted by path; all of one size, as a batch needs).
 */
public interface ImageSource extends AutoCloseable {
    /** How many images. */
    long count();

    /** The next up to {@code max} images, or null when none are left. */
    Tensor next(int max);

    String describe();

    @Override
    void close();

    /** An ADM .npz whose arr_0 is uint8 [N, H, W, 3], or a folder of images. */
    static ImageSource open(Path path) {
        if (Files.isDirectory(path)) return folder(path);
        if (!Files.isRegularFile(path)) throw new IllegalArgumentException(path + " does not exist (expected an ADM .npz or a folder of images)");
        NpzFile npz = new NpzFile(path);
        try {
            return npz(npz);
        } catch (RuntimeException e) {
            npz.close();
            throw e;
        }
    }

    /** arr_0 of an open .npz, checked: uint8, rank 4, 3 channels last. */
    static ImageSource npz(NpzFile npz) {
        if (!npz.has("arr_0")) {
            throw new IllegalArgumentException(npz.path() + " has no array 'arr_0' (images uint8 [N, H, W, 3]); it holds " + npz.names());
        }
        NpzFile.Stream stream = npz.stream("arr_0");
        long[] shape = stream.header().shape();
        String descr = stream.header().descr();
        if (!descr.equals("|u1") || shape.length != 4 || shape[3] != 3 || shape[0] == 0) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // reporting the shape matters more
            }
            throw new IllegalArgumentException(npz.path() + ": 'arr_0' must be uint8 images [N, H, W, 3], found dtype '" + descr + "' shape "
                    + Arrays.toString(shape));
        }
        long perImage = shape[1] * shape[2] * 3;
        return new ImageSource() {
            long done;

            public long count() {
                return shape[0];
            }

            public Tensor next(int max) {
                int b = (int) Math.min(max, shape[0] - done);
                if (b <= 0) return null;
                byte[] raw = new byte[Math.toIntExact(b * perImage)];
                try {
                    stream.data().readFully(raw);
                } catch (IOException e) {
                    throw new UncheckedIOException(npz.path() + ": 'arr_0' ends before its " + shape[0] + " images", e);
                }
                done += b;
                return NpzFile.fromBytes(raw, DType.UINT8, new long[] {b, shape[1], shape[2], 3});
            }

            public String describe() {
                return npz.path() + " (" + shape[0] + " images of " + shape[1] + "x" + shape[2] + ")";
            }

            public void close() {
                try {
                    stream.close();
                } catch (IOException ignored) {
                    // nothing to keep
                }
                npz.close();
            }
        };
    }

    static ImageSource folder(Path dir) {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
                return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
            }).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        if (files.isEmpty()) throw new IllegalArgumentException(dir + " holds no .png or .jpg images");
        return new ImageSource() {
            int done;
            int h = -1, w = -1;

            public long count() {
                return files.size();
            }

            public Tensor next(int max) {
                int b = Math.min(max, files.size() - done);
                if (b <= 0) return null;
                byte[] raw = null;
                for (int i = 0; i < b; i++) {
                    Path file = files.get(done + i);
                    BufferedImage image = ImageFolder.decode(file);
                    if (h < 0) {
                        h = image.getHeight();
                        w = image.getWidth();
                    } else if (image.getHeight() != h || image.getWidth() != w) {
                        throw new IllegalArgumentException(file + " is " + image.getWidth() + "x" + image.getHeight() + ", the folder's first image "
                                + w + "x" + h + ": evaluate images of one size");
                    }
                    if (raw == null) raw = new byte[b * h * w * 3];
                    int base = i * h * w * 3;
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            int rgb = image.getRGB(x, y), o = base + (y * w + x) * 3;
                            raw[o] = (byte) (rgb >> 16);
                            raw[o + 1] = (byte) (rgb >> 8);
                            raw[o + 2] = (byte) rgb;
                        }
                    }
                }
                done += b;
                return NpzFile.fromBytes(raw, DType.UINT8, new long[] {b, h, w, 3});
            }

            public String describe() {
                return dir + " (" + files.size() + " images)";
            }

            public void close() {}
        };
    }
}
