package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Torch;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
    @TempDir
    Path dir;

    @Test
    void greyGridLaysOutCellsWithPadding() throws IOException {
        long live = Torch.liveTensors();
        int n = 5;
        int h = 3;
        int w = 4;
        float[] x = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < h * w; k++) x[i * h * w + k] = -1f + 0.4f * i + 0.01f * k;
        }
        Path file = dir.resolve("sub/grid.png");
        try (Tensor t = Tensor.of(x, n, 1, h, w)) {
            Images.writeGrid(t, 3, file);
        }
        BufferedImage img = ImageIO.read(file.toFile());
        // 3 columns x 2 rows of 4x3 cells, 2 pixels around and between.
        assertEquals(3 * (w + 2) + 2, img.getWidth());
        assertEquals(2 * (h + 2) + 2, img.getHeight());
        for (int i = 0; i < n; i++) {
            int left = 2 + (i % 3) * (w + 2);
            int top = 2 + (i / 3) * (h + 2);
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    int want = Images.toByte(x[i * h * w + r * w + c]);
                    assertEquals(want, img.getRaster().getSample(left + c, top + r, 0), "image " + i + " at " + r + "," + c);
                }
            }
        }
        assertEquals(0, img.getRaster().getSample(0, 0, 0), "padding is black");
        assertEquals(0, img.getRaster().getSample(1 + w + 2, 3, 0), "between cells");
        assertEquals(0, img.getRaster().getSample(img.getWidth() - 3, img.getHeight() - 3, 0), "the empty sixth cell");
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void rgbGridClampsAndKeepsChannels() throws IOException {
        // One 1x3 image: red (out of range), green, blue at the three pixels.
        float[] x = {
            5f, -1f, -1f, // R
            -1f, 1f, -1f, // G
            -3f, -1f, 0f, // B
        };
        Path file = dir.resolve("rgb.png");
        try (Tensor t = Tensor.of(x, 1, 3, 1, 3)) {
            Images.writeGrid(t, 8, 0, file);
        }
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(3, img.getWidth());
        assertEquals(1, img.getHeight());
        assertEquals(0xff0000, img.getRGB(0, 0) & 0xffffff);
        assertEquals(0x00ff00, img.getRGB(1, 0) & 0xffffff);
        assertEquals(0x000080, img.getRGB(2, 0) & 0xffffff, "0 maps to 128");
    }

    @Test
    void toByteIsSaveImagesRounding() {
        assertEquals(128, Images.toByte(0f));
        assertEquals(0, Images.toByte(-2f));
        assertEquals(255, Images.toByte(7f));
        assertEquals(0, Images.toByte(Float.NaN));
        assertEquals(191, Images.toByte(0.5f)); // 127.5 * 0.5 + 128 = 191.75
    }

    @Test
    void rejectsOtherShapes() {
        try (Tensor t = Tensor.zeros(2, 2, 4, 4); Tensor flat = Tensor.zeros(4, 4)) {
            assertThrows(IllegalArgumentException.class, () -> Images.writeGrid(t, 2, dir.resolve("a.png")));
            assertThrows(IllegalArgumentException.class, () -> Images.writeGrid(flat, 2, dir.resolve("b.png")));
        }
    }

    @Test
    void fashionMnistGrid() throws IOException {
        var found = FashionMnist.find();
        org.junit.jupiter.api.Assumptions.assumeTrue(found.isPresent(), "Fashion-MNIST is not installed");
        Path file = dir.resolve("fashion.png");
        try (TensorDataset d = FashionMnist.load(found.get(), FashionMnist.Split.TEST);
             Tensor first = d.images().narrow(0, 0, 40)) {
            Images.writeGrid(first, 10, file);
        }
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(10 * 34 + 2, img.getWidth());
        assertEquals(4 * 34 + 2, img.getHeight());
        copyForInspection(file);
    }

    /** Keeps a copy under target/ when -Ddit4j.keepImages=true, to look at. */
    static void copyForInspection(Path file) throws IOException {
        if (!Boolean.getBoolean("dit4j.keepImages")) return;
        Path out = Path.of("target", "data-images");
        Files.createDirectories(out);
        Files.copy(file, out.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
