package dev.dit4j.examples;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST from its IDX files (Debian's dataset-fashion-mnist, or DIT4J_FASHION_MNIST):
 * images as float32 [N, 1, 32, 32] in [-1, 1] (28x28 centred on a 32x32 background of -1, the
 * pixel-space DiT input) and labels as int64 [N].
 */
record FashionMnistFiles(Tensor images, Tensor labels) implements AutoCloseable {
    static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot");
    static final Path DEBIAN = Path.of("/usr/share/datasets/fashion-mnist");

    static Path locate() {
        String env = System.getenv("DIT4J_FASHION_MNIST");
        Path dir = env != null && !env.isBlank() ? Path.of(env) : DEBIAN;
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("Fashion-MNIST not found at " + dir
                    + ": install Debian's dataset-fashion-mnist (./dit4j does) or set DIT4J_FASHION_MNIST");
        }
        return dir;
    }

    static FashionMnistFiles load(Path dir, boolean train) {
        String prefix = train ? "train" : "t10k";
        byte[] pixels = read(dir, prefix + "-images-idx3-ubyte", 2051, 3);
        byte[] labels = read(dir, prefix + "-labels-idx1-ubyte", 2049, 1);
        int n = labels.length;
        if (pixels.length != n * 28 * 28) {
            throw new IllegalArgumentException(dir + ": " + n + " labels but " + pixels.length / 784 + " images");
        }
        float[] img = new float[n * 32 * 32];
        java.util.Arrays.fill(img, -1f);
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    img[i * 1024 + (r + 2) * 32 + c + 2] = (pixels[i * 784 + r * 28 + c] & 0xff) / 127.5f - 1f;
                }
            }
        }
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = labels[i];
            if (y[i] < 0 || y[i] > 9) throw new IllegalArgumentException(dir + ": label " + y[i] + " at " + i + " is not a class");
        }
        return new FashionMnistFiles(TensorScope.release(Tensor.of(img, n, 1, 32, 32)), TensorScope.release(Tensor.of(y, n)));
    }

    /** The payload of an IDX file (gzipped or not) after checking its magic number and dimensions. */
    private static byte[] read(Path dir, String name, int magic, int dims) {
        Path file = Files.exists(dir.resolve(name + ".gz")) ? dir.resolve(name + ".gz") : dir.resolve(name);
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw)) {
            int m = in.readInt();
            if (m != magic) throw new IllegalArgumentException(file + " is not an IDX file of this kind (magic " + m + ")");
            long count = 1;
            for (int d = 0; d < dims; d++) count *= in.readInt();
            if (count <= 0 || count > 100_000_000) throw new IllegalArgumentException(file + " declares " + count + " bytes");
            byte[] data = new byte[(int) count];
            in.readFully(data);
            return data;
        } catch (EOFException e) {
            throw new IllegalArgumentException(file + " is truncated", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    int size() {
        return (int) labels.size(0);
    }

    @Override
    public void close() {
        images.close();
        labels.close();
    }
}
