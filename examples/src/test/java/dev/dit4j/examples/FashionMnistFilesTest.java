package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistFilesTest {
    @TempDir
    Path dir;

    private void idx(String name, int magic, int[] dims, byte[] data, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(gzip ? new GZIPOutputStream(bytes) : bytes)) {
            out.writeInt(magic);
            for (int d : dims) out.writeInt(d);
            out.write(data);
        }
        Files.write(dir.resolve(gzip ? name + ".gz" : name), bytes.toByteArray());
    }

    @Test
    void readsImagesIntoThePaddedRangeAndLabels() throws IOException {
        byte[] pixels = new byte[2 * 784];
        pixels[0] = (byte) 255; // image 0, row 0, col 0
        pixels[784 + 27 * 28 + 27] = (byte) 0; // image 1, last pixel black
        idx("train-images-idx3-ubyte", 2051, new int[] {2, 28, 28}, pixels, true);
        idx("train-labels-idx1-ubyte", 2049, new int[] {2}, new byte[] {9, 3}, false);
        long live = Torch.liveTensors();
        try (FashionMnistFiles f = FashionMnistFiles.load(dir, true)) {
            assertArrayEquals(new long[] {2, 1, 32, 32}, f.images().shape());
            float[] v = f.images().toFloatArray();
            assertEquals(1f, v[2 * 32 + 2], "255 maps to 1 inside the 2-pixel border");
            assertEquals(-1f, v[0], "the border is background");
            assertEquals(-1f, v[1024 + 29 * 32 + 29]);
            assertArrayEquals(new long[] {9, 3}, f.labels().toLongArray());
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void corruptFilesAreNamed() throws IOException {
        idx("train-images-idx3-ubyte", 1234, new int[] {1, 28, 28}, new byte[784], false);
        idx("train-labels-idx1-ubyte", 2049, new int[] {1}, new byte[] {0}, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FashionMnistFiles.load(dir, true));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte") && e.getMessage().contains("magic"), e.getMessage());
        idx("train-images-idx3-ubyte", 2051, new int[] {2, 28, 28}, new byte[100], false);
        e = assertThrows(IllegalArgumentException.class, () -> FashionMnistFiles.load(dir, true));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void samplerRestoresItsPosition() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); EpochSampler a = new EpochSampler(10, 4, 7); EpochSampler b = new EpochSampler(10, 4, 7)) {
            for (int i = 0; i < 3; i++) a.next(); // crosses into epoch 1 (tail of 2 dropped)
            b.restore(a.state());
            Tensor x = a.next();
            Tensor y = b.next();
            assertArrayEquals(x.toLongArray(), y.toLongArray());
            assertThrows(IllegalArgumentException.class, () -> b.restore("junk"));
        }
        assertEquals(live, Torch.liveTensors());
    }
}
