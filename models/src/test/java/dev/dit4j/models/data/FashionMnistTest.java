package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Torch;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir
    Path dir;

    /** An IDX file of unsigned bytes: magic 0x0000080R, the sizes, the data. */
    static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static void write(Path file, byte[] bytes, boolean gzip) throws IOException {
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            out.write(bytes);
        }
    }

    /** n images where pixel (r, c) of image i is (i * 7 + r * 28 + c) mod 256, labels i mod 10. */
    static void writeSplit(Path dir, String prefix, int n, boolean gzip) throws IOException {
        byte[] pixels = new byte[n * 784];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) ((i / 784) * 7 + i % 784);
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) labels[i] = (byte) (i % 10);
        String ext = gzip ? ".gz" : "";
        write(dir.resolve(prefix + "-images-idx3-ubyte" + ext), idx(new int[] {n, 28, 28}, pixels), gzip);
        write(dir.resolve(prefix + "-labels-idx1-ubyte" + ext), idx(new int[] {n}, labels), gzip);
    }

    private void writeAll(boolean gzip) throws IOException {
        writeSplit(dir, "train", 5, gzip);
        writeSplit(dir, "t10k", 3, gzip);
    }

    private static float expectedPixel(int i, int r, int c) {
        return Images.toSigned(((i * 7) + r * 28 + c) & 0xff);
    }

    private void checkSynthetic(TensorDataset d, int n) {
        assertArrayEquals(new long[] {n, 1, 32, 32}, d.images().shape());
        assertEquals(DType.FLOAT32, d.images().dtype());
        assertArrayEquals(new long[] {n}, d.labels().shape());
        assertEquals(DType.INT64, d.labels().dtype());
        float[] x = d.images().toFloatArray();
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < 32; r++) {
                for (int c = 0; c < 32; c++) {
                    boolean border = r < 2 || r >= 30 || c < 2 || c >= 30;
                    float want = border ? -1f : expectedPixel(i, r - 2, c - 2);
                    assertEquals(want, x[i * 1024 + r * 32 + c], "image " + i + " at " + r + "," + c);
                }
            }
        }
        long[] y = d.labels().toLongArray();
        for (int i = 0; i < n; i++) assertEquals(i % 10, y[i]);
        assertEquals(FashionMnist.CLASSES, d.classes());
    }

    @Test
    void readsGzippedAndPlainFilesPaddedTo32() throws IOException {
        long live = Torch.liveTensors();
        writeAll(true);
        try (TensorDataset train = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
             TensorDataset test = FashionMnist.load(dir, FashionMnist.Split.TEST)) {
            checkSynthetic(train, 5);
            checkSynthetic(test, 3);
        }
        Path plain = Files.createDirectory(dir.resolve("plain"));
        writeSplit(plain, "train", 4, false);
        try (TensorDataset train = FashionMnist.load(plain, FashionMnist.Split.TRAIN)) {
            checkSynthetic(train, 4);
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void pixelExtremesMapToMinusOneAndOne() {
        assertEquals(-1f, Images.toSigned(0));
        assertEquals(1f, Images.toSigned(255));
        assertEquals(0, Images.toByte(-1f));
        assertEquals(255, Images.toByte(1f));
        for (int v = 0; v < 256; v++) assertEquals(v, Images.toByte(Images.toSigned(v)), "byte " + v);
    }

    @Test
    void classNames() {
        assertEquals(10, FashionMnist.CLASSES.size());
        assertEquals("T-shirt/top", FashionMnist.CLASSES.get(0));
        assertEquals("Ankle boot", FashionMnist.CLASSES.get(9));
    }

    private void assertRejected(Class<? extends RuntimeException> type, String fileName, String fragment) {
        RuntimeException e = assertThrows(type, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains(fileName), "message names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "message says '" + fragment + "': " + e.getMessage());
    }

    @Test
    void rejectsAWrongMagicNumber() throws IOException {
        writeAll(false);
        byte[] bytes = Files.readAllBytes(dir.resolve("train-images-idx3-ubyte"));
        bytes[2] = 0x0d; // float elements
        Files.write(dir.resolve("train-images-idx3-ubyte"), bytes);
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte", "element type 0xd");
        bytes[0] = 0x50; // "PK..."
        Files.write(dir.resolve("train-images-idx3-ubyte"), bytes);
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte", "not an IDX file");
    }

    @Test
    void rejectsTheWrongRank() throws IOException {
        writeAll(false);
        Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {5, 1}, new byte[5]));
        assertRejected(IllegalArgumentException.class, "train-labels-idx1-ubyte", "has 2 dimensions, expected 1");
    }

    @Test
    void rejectsTruncatedFiles() throws IOException {
        writeAll(false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        byte[] bytes = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(bytes, bytes.length - 100));
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte", "truncated");
        Files.write(images, Arrays.copyOf(bytes, 9));
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte", "truncated");
        Files.write(images, new byte[0]);
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte", "truncated");
    }

    @Test
    void rejectsTruncatedAndCorruptGzip() throws IOException {
        writeAll(true);
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        byte[] bytes = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(bytes, bytes.length / 2));
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte.gz", "truncated");
        byte[] corrupt = bytes.clone();
        for (int i = 20; i < corrupt.length - 8; i++) corrupt[i] ^= 0x5a;
        Files.write(images, corrupt);
        assertRejected(UncheckedIOException.class, "train-images-idx3-ubyte.gz", "cannot read");
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        writeAll(false);
        Path labels = dir.resolve("train-labels-idx1-ubyte");
        byte[] bytes = Files.readAllBytes(labels);
        Files.write(labels, Arrays.copyOf(bytes, bytes.length + 3));
        assertRejected(IllegalArgumentException.class, "train-labels-idx1-ubyte", "bytes past");
    }

    @Test
    void rejectsMismatchedCountsSizesAndLabels() throws IOException {
        writeAll(false);
        Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {4}, new byte[4]));
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte", "5 images but");
        Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {5}, new byte[] {0, 1, 2, 10, 4}));
        assertRejected(IllegalArgumentException.class, "train-labels-idx1-ubyte", "label 10 at index 3");
        Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {5}, new byte[5]));
        Files.write(dir.resolve("train-images-idx3-ubyte"), idx(new int[] {5, 32, 32}, new byte[5 * 1024]));
        assertRejected(IllegalArgumentException.class, "train-images-idx3-ubyte", "32x32 images, not 28x28");
    }

    @Test
    void missingFilesSayWhatToInstall() throws IOException {
        writeSplit(dir, "train", 2, true);
        FashionMnist.NotFoundException e = assertThrows(FashionMnist.NotFoundException.class,
                () -> FashionMnist.locate(dir.toString(), Path.of("/nonexistent")));
        assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
        assertTrue(e.getMessage().contains(FashionMnist.ENV), e.getMessage());
        assertFalse(e.getMessage().contains("train-images"), "train files are present: " + e.getMessage());
        e = assertThrows(FashionMnist.NotFoundException.class, () -> FashionMnist.locate(null, dir.resolve("absent")));
        assertTrue(e.getMessage().contains("apt-get install -y dataset-fashion-mnist"), e.getMessage());
        assertThrows(FashionMnist.NotFoundException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
    }

    @Test
    void theOverrideWinsOverTheDebianDirectory() throws IOException {
        writeAll(true);
        assertEquals(dir, FashionMnist.locate(dir.toString(), Path.of("/nonexistent")));
        assertEquals(dir, FashionMnist.locate(" ", dir));
        assertEquals(dir, FashionMnist.locate(null, dir));
    }

    @Test
    void theDebianPackageLoads() {
        var found = FashionMnist.find();
        Assumptions.assumeTrue(found.isPresent(), "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        long live = Torch.liveTensors();
        try (TensorDataset train = FashionMnist.load(found.get(), FashionMnist.Split.TRAIN);
             TensorDataset test = FashionMnist.load(found.get(), FashionMnist.Split.TEST)) {
            assertArrayEquals(new long[] {60000, 1, 32, 32}, train.images().shape());
            assertArrayEquals(new long[] {10000, 1, 32, 32}, test.images().shape());
            // The published first labels: Ankle boot, T-shirt/top (train); Ankle boot, Pullover (test).
            assertEquals(9, train.label(0));
            assertEquals(0, train.label(1));
            assertEquals(9, test.label(0));
            assertEquals(2, test.label(1));
            long[] counts = new long[10];
            for (long y : train.labels().toLongArray()) counts[(int) y]++;
            for (long c : counts) assertEquals(6000, c);
            try (var min = train.images().min(); var max = train.images().max()) {
                assertEquals(-1.0, min.item());
                assertEquals(1.0, max.item());
            }
            float[] first = new float[1024];
            train.readImage(0, first);
            for (int i = 0; i < 32; i++) {
                assertEquals(-1f, first[i], "top border");
                assertEquals(-1f, first[i * 32], "left border");
            }
        }
        assertEquals(live, Torch.liveTensors());
    }
}
