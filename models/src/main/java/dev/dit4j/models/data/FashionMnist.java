package dev.dit4j.models.data;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Fashion-MNIST (Xiao et al. 2017) from its four IDX files, gzipped or not: 60,000 training and
 * 10,000 test images of 28x28 grey clothes in 10 classes. Images come as float32 [N, 1, 32, 32]
 * in [-1, 1], the 28x28 picture centred on 2 pixels of background (-1) each side, so that a
 * pixel-space DiT sees a power-of-two size; labels as int64 [N].
 *
 * <p>Debian ships the files in the package {@value #DEBIAN_PACKAGE} under {@link #DEBIAN_DIR};
 * the environment variable {@value #ENV} names another directory.
 */
public final class FashionMnist {
    public static final String DEBIAN_PACKAGE = "dataset-fashion-mnist";
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final String ENV = "DIT4J_FASHION_MNIST";
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
            "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final int SOURCE_SIZE = 28;
    public static final int PADDING = 2;
    public static final int SIZE = SOURCE_SIZE + 2 * PADDING;

    /** The dataset's two files: 60,000 training and 10,000 test images. */
    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        String images() {
            return prefix + "-images-idx3-ubyte";
        }

        String labels() {
            return prefix + "-labels-idx1-ubyte";
        }
    }

    /** Thrown when the files are nowhere to be found; says what to install. */
    public static final class NotFoundException extends IllegalStateException {
        NotFoundException(String message) {
            super(message);
        }
    }

    private FashionMnist() {}

    /** The directory of the files: {@value #ENV} if set, else Debian's; throws NotFoundException with the fix. */
    public static Path locate() {
        return locate(System.getenv(ENV), DEBIAN_DIR);
    }

    /** Like {@link #locate()}, empty instead of throwing (for tests that skip without the data). */
    public static Optional<Path> find() {
        try {
            return Optional.of(locate());
        } catch (NotFoundException e) {
            return Optional.empty();
        }
    }

    static Path locate(String override, Path debianDir) {
        boolean overridden = override != null && !override.isBlank();
        Path dir = overridden ? Path.of(override) : debianDir;
        List<String> missing = missingFiles(dir);
        if (missing.isEmpty()) return dir;
        String where = overridden ? ENV + "=" + dir : dir.toString();
        throw new NotFoundException("Fashion-MNIST not found: " + where + " lacks " + String.join(", ", missing)
                + " (each may be gzipped). Install Debian's package " + DEBIAN_PACKAGE + " (apt-get install -y "
                + DEBIAN_PACKAGE + ", which puts the files in " + DEBIAN_DIR + ") or set " + ENV
                + " to a directory holding the four IDX files.");
    }

    private static List<String> missingFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (Split s : Split.values()) {
            for (String name : List.of(s.images(), s.labels())) {
                if (file(dir, name).isEmpty()) missing.add(name);
            }
        }
        return missing;
    }

    /** The file under either name, the gzipped one first. */
    private static Optional<Path> file(Path dir, String name) {
        for (Path p : List.of(dir.resolve(name + ".gz"), dir.resolve(name))) {
            if (Files.isRegularFile(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    public static TensorDataset load(Split split) {
        return load(locate(), split);
    }

    /**
     * Loads one split from {@code dir}. The tensors belong to the caller's innermost TensorScope,
     * if any, like any new tensor; the returned dataset frees them on close.
     */
    public static TensorDataset load(Path dir, Split split) {
        Path imageFile = file(dir, split.images()).orElseThrow(() -> missing(dir, split.images()));
        Path labelFile = file(dir, split.labels()).orElseThrow(() -> missing(dir, split.labels()));
        Idx.UnsignedBytes images = Idx.read(imageFile, 3);
        Idx.UnsignedBytes labels = Idx.read(labelFile, 1);
        int n = labels.dims()[0];
        if (images.dims()[1] != SOURCE_SIZE || images.dims()[2] != SOURCE_SIZE) {
            throw Idx.bad(imageFile, "holds " + images.dims()[1] + "x" + images.dims()[2] + " images, not 28x28");
        }
        if (images.dims()[0] != n) {
            throw Idx.bad(imageFile, "holds " + images.dims()[0] + " images but " + labelFile + " holds " + n + " labels");
        }
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = labels.data()[i] & 0xff;
            if (y[i] >= CLASSES.size()) throw Idx.bad(labelFile, "has label " + y[i] + " at index " + i + ", not one of 10 classes");
        }
        Tensor x = Tensor.empty(new long[] {n, 1, SIZE, SIZE}, DType.FLOAT32, Device.CPU);
        Tensor labelTensor = null;
        try {
            pad(images.data(), n, x.asSegment());
            labelTensor = Tensor.of(y, n);
            return new TensorDataset(x, labelTensor, CLASSES);
        } catch (RuntimeException e) {
            x.close();
            if (labelTensor != null) labelTensor.close();
            throw e;
        }
    }

    /** 28x28 bytes to 32x32 floats in [-1, 1] with a border of background (-1). */
    private static void pad(byte[] pixels, int n, MemorySegment out) {
        float[] image = new float[SIZE * SIZE];
        int source = SOURCE_SIZE * SOURCE_SIZE;
        for (int i = 0; i < n; i++) {
            java.util.Arrays.fill(image, -1f);
            for (int r = 0; r < SOURCE_SIZE; r++) {
                int from = i * source + r * SOURCE_SIZE;
                int to = (r + PADDING) * SIZE + PADDING;
                for (int c = 0; c < SOURCE_SIZE; c++) image[to + c] = Images.toSigned(pixels[from + c] & 0xff);
            }
            MemorySegment.copy(image, 0, out, ValueLayout.JAVA_FLOAT, (long) i * image.length * Float.BYTES, image.length);
        }
    }

    private static IllegalStateException missing(Path dir, String name) {
        return new NotFoundException(dir + " has no " + name + " (nor " + name + ".gz); install Debian's package "
                + DEBIAN_PACKAGE + " or set " + ENV);
    }
}
