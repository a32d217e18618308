package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Torch;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir
    Path dir;

    private static Path fixture(String name) throws IOException {
        return copyResource("/data/center_crop/" + name, Files.createTempFile("dit4j-fixture", ".png"));
    }

    private static Path copyResource(String resource, Path to) throws IOException {
        try (InputStream in = ImageFolderTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "missing test resource " + resource);
            Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        to.toFile().deleteOnExit();
        return to;
    }

    /**
     * The fixtures hold images of several sizes and modes (RGB, grey, RGBA, palette) and what
     * ADM's center_crop_arr makes of them with Pillow (make_center_crop_fixtures.py): equal bytes.
     */
    @Test
    void centerCropMatchesPillowExactly() throws IOException {
        String cases;
        try (InputStream in = getClass().getResourceAsStream("/data/center_crop/cases.txt")) {
            cases = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int checked = 0;
        for (String line : cases.strip().split("\n")) {
            String[] f = line.trim().split(" ");
            int size = Integer.parseInt(f[1]);
            PillowResize.Pixels got = PillowResize.centerCrop(ImageFolder.readRgb(fixture(f[0] + ".png")), size);
            PillowResize.Pixels want = ImageFolder.toRgb(ImageIO.read(fixture(f[0] + ".expected.png").toFile()));
            assertEquals(size, got.width());
            assertEquals(size, got.height());
            int differ = 0;
            for (int i = 0; i < want.data().length; i++) differ += want.data()[i] != got.data()[i] ? 1 : 0;
            assertEquals(0, differ, f[0] + ": bytes that differ from Pillow's");
            checked++;
        }
        assertEquals(9, checked);
    }

    private static void png(Path file, int w, int h, int rgb) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) img.setRGB(x, y, x < w / 2 ? rgb : 0xffffff);
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, file.toString().endsWith(".png") ? "png" : "jpeg", file.toFile()));
    }

    @Test
    void classesAreSortedSubdirectoriesAndImagesAreFound() throws IOException {
        png(dir.resolve("zebra/b.png"), 40, 30, 0xff0000);
        png(dir.resolve("zebra/a.PNG"), 30, 40, 0x00ff00);
        png(dir.resolve("ant/nested/deeper/x.jpg"), 64, 48, 0x0000ff);
        png(dir.resolve("ant/y.jpeg"), 16, 16, 0x0000ff);
        Files.writeString(dir.resolve("ant/notes.txt"), "not an image");
        Files.writeString(dir.resolve("README"), "top-level files are not classes");
        ImageFolder folder = ImageFolder.open(dir, 16);
        assertEquals(List.of("ant", "zebra"), folder.classes());
        assertEquals(4, folder.size());
        List<String> names = new ArrayList<>();
        for (int i = 0; i < folder.size(); i++) names.add(folder.file(i).getFileName() + ":" + folder.label(i));
        assertEquals(List.of("x.jpg:0", "y.jpeg:0", "a.PNG:1", "b.png:1"), names);
        assertArrayEquals(new long[] {3, 16, 16}, folder.imageShape());
    }

    @Test
    void imagesComeAsRgbChwInMinusOneToOne() throws IOException {
        png(dir.resolve("red/r.png"), 64, 32, 0xff0000); // left half red, right half white
        ImageFolder folder = ImageFolder.open(dir, 16);
        float[] chw = new float[3 * 16 * 16];
        folder.readImage(0, chw);
        // 32 is the short side: halve once to 32x16, keep 16 high; the centre crop is columns 8..23 of 32.
        int plane = 256;
        assertEquals(1f, chw[0 * plane + 5 * 16], "red, left");
        assertEquals(-1f, chw[1 * plane + 5 * 16], "no green, left");
        assertEquals(-1f, chw[2 * plane + 5 * 16], "no blue, left");
        for (int c = 0; c < 3; c++) assertEquals(1f, chw[c * plane + 5 * 16 + 15], "white, right");
    }

    @Test
    void jpegsDecodeCloseToTheirSource() throws IOException {
        png(dir.resolve("c/a.jpg"), 48, 48, 0x336699);
        ImageFolder folder = ImageFolder.open(dir, 48);
        float[] chw = new float[3 * 48 * 48];
        folder.readImage(0, chw);
        int at = 20 * 48 + 4; // inside the coloured half, away from the edge
        assertEquals(Images.toSigned(0x33), chw[at], 0.05);
        assertEquals(Images.toSigned(0x66), chw[48 * 48 + at], 0.05);
        assertEquals(Images.toSigned(0x99), chw[2 * 48 * 48 + at], 0.05);
    }

    @Test
    void greyImagesKeepTheirValues() throws IOException {
        BufferedImage grey = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) grey.getRaster().setSample(x, y, 0, 100);
        Files.createDirectories(dir.resolve("g"));
        ImageIO.write(grey, "png", dir.resolve("g/grey.png").toFile());
        float[] chw = new float[3 * 8 * 8];
        ImageFolder.open(dir, 8).readImage(0, chw);
        for (float v : chw) assertEquals(Images.toSigned(100), v, "grey 100 stays 100 (no gamma curve)");
    }

    @Test
    void unreadableImagesAreNamed() throws IOException {
        png(dir.resolve("ok/good.png"), 16, 16, 0);
        Files.write(dir.resolve("ok/broken.png"), new byte[] {1, 2, 3, 4, 5});
        byte[] good = Files.readAllBytes(dir.resolve("ok/good.png"));
        Files.write(dir.resolve("ok/cut.png"), java.util.Arrays.copyOf(good, good.length / 2));
        ImageFolder folder = ImageFolder.open(dir, 16);
        assertEquals("broken.png", folder.file(0).getFileName().toString());
        float[] chw = new float[3 * 16 * 16];
        RuntimeException e = assertThrows(RuntimeException.class, () -> folder.readImage(0, chw));
        assertTrue(e instanceof IllegalArgumentException || e instanceof UncheckedIOException, e.toString());
        assertTrue(e.getMessage().contains("broken.png"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> folder.readImage(1, chw));
        assertTrue(e.getMessage().contains("cut.png"), e.getMessage());
        folder.readImage(2, chw);

        long live = Torch.liveTensors();
        try (BatchLoader loader = BatchLoader.builder(folder, 3).shuffle(false).workers(2).build()) {
            RuntimeException viaLoader = assertThrows(RuntimeException.class, loader::next);
            assertTrue(viaLoader.getMessage().contains("broken.png") || viaLoader.getMessage().contains("cut.png"),
                    viaLoader.getMessage());
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void aTruncatedJpegIsRefusedNotFilledInGrey() throws IOException {
        png(dir.resolve("c/whole.jpg"), 48, 48, 0x336699);
        byte[] whole = Files.readAllBytes(dir.resolve("c/whole.jpg"));
        Files.write(dir.resolve("c/cut.jpg"), java.util.Arrays.copyOf(whole, whole.length * 9 / 10)); // javax.imageio decodes this, with a warning
        ImageFolder folder = ImageFolder.open(dir, 48);
        assertEquals("cut.jpg", folder.file(0).getFileName().toString());
        float[] chw = new float[3 * 48 * 48];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> folder.readImage(0, chw));
        assertTrue(e.getMessage().contains("cut.jpg") && e.getMessage().contains("truncated"), e.getMessage());
        folder.readImage(1, chw);
    }

    @Test
    void badLayoutsAreRejected() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.open(dir.resolve("absent"), 16));
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.open(dir, 16), "no classes");
        Files.createDirectories(dir.resolve("empty"));
        png(dir.resolve("full/a.png"), 4, 4, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageFolder.open(dir, 16));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    @Test
    void loadsBatchesWithFlips() throws IOException {
        for (int i = 0; i < 6; i++) png(dir.resolve("c" + (i % 2) + "/" + i + ".png"), 40 + i, 32, 0x0000ff);
        long live = Torch.liveTensors();
        try (BatchLoader loader = BatchLoader.builder(ImageFolder.open(dir, 16), 6).seed(2).randomFlip(true).workers(3).build();
             BatchLoader.Batch b = loader.next()) {
            assertArrayEquals(new long[] {6, 3, 16, 16}, b.images().shape());
            float[] x = b.images().toFloatArray();
            int mirrored = 0;
            for (int j = 0; j < 6; j++) {
                float blueLeft = x[j * 768 + 2 * 256 + 8 * 16];
                float redLeft = x[j * 768 + 8 * 16];
                mirrored += redLeft > 0.5f && blueLeft > 0.5f ? 1 : 0; // white on the left: mirrored
            }
            assertTrue(mirrored > 0 && mirrored < 6, mirrored + " of 6 mirrored (seed 2)");
        }
        assertEquals(live, Torch.liveTensors());
    }
}
