package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.data.ImageFolder;
import dev.dit4j.models.data.PillowResize;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clip art: transparent PNGs composited on white, padded square, reduced; what is skipped and why; a clear message when absent. */
class ClipArtTest {
    @TempDir
    Path dir;

    private Path png(String name, BufferedImage image) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        ImageIO.write(image, "png", f.toFile());
        return f;
    }

    @Test
    void compositesOnWhiteAndPadsToACentredSquare() {
        BufferedImage argb = new BufferedImage(4, 2, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x80FF0000); // half-transparent red
        argb.setRGB(1, 0, 0xFF00FF00); // opaque green
        // the rest: fully transparent black, which must come out white
        PillowResize.Pixels p = ClipArt.onWhiteSquare(argb);
        assertEquals(4, p.width());
        assertEquals(4, p.height());
        int row = 1; // a 4x2 image sits on rows 1 and 2 of the 4x4 square
        assertArrayEquals(new int[] {255, 127, 127}, pixel(p, 0, row), "128/255 red over white");
        assertArrayEquals(new int[] {0, 255, 0}, pixel(p, 1, row));
        assertArrayEquals(new int[] {255, 255, 255}, pixel(p, 2, row), "transparent black is white");
        assertArrayEquals(new int[] {255, 255, 255}, pixel(p, 0, 0), "padding is white");
        assertArrayEquals(new int[] {255, 255, 255}, pixel(p, 0, 3), "padding is white");
    }

    @Test
    void greyWithAlphaKeepsItsStoredLevels() throws IOException {
        // 8-bit grey + alpha, as many openclipart PNGs are: read back through ImageIO (a ComponentColorModel, not sRGB)
        var cs = java.awt.color.ColorSpace.getInstance(java.awt.color.ColorSpace.CS_GRAY);
        var cm = new java.awt.image.ComponentColorModel(cs, true, false, java.awt.Transparency.TRANSLUCENT, java.awt.image.DataBuffer.TYPE_BYTE);
        var raster = cm.createCompatibleWritableRaster(2, 2);
        raster.setPixel(0, 0, new int[] {100, 255});
        raster.setPixel(1, 0, new int[] {0, 0});
        raster.setPixel(0, 1, new int[] {100, 255});
        raster.setPixel(1, 1, new int[] {100, 255});
        Path f = png("grey.png", new BufferedImage(cm, raster, false, null));
        PillowResize.Pixels p = ClipArt.onWhiteSquare(ImageFolder.decode(f));
        assertArrayEquals(new int[] {100, 100, 100}, pixel(p, 0, 0), "the stored level, not a gamma-converted one");
        assertArrayEquals(new int[] {255, 255, 255}, pixel(p, 1, 0));
    }

    @Test
    void preparesLargeDrawingsAndSkipsSmallElongatedBlankAndDamagedOnes() throws IOException {
        Path good = png("a/good.png", disc(90, 60, 0xFF2050C0));
        ClipArt.Prepared p = ClipArt.prepare(good, 32);
        assertNotNull(p.image(), p.reason());
        assertEquals(32, p.image().getWidth());
        assertEquals(32, p.image().getHeight());
        assertEquals(0xFFFFFF, p.image().getRGB(16, 1) & 0xFFFFFF, "the padding above a 90x60 drawing is white");
        assertNotEquals(0xFFFFFF, p.image().getRGB(16, 16) & 0xFFFFFF, "the disc is in the middle");

        assertEquals(ClipArt.Skip.SMALL, ClipArt.prepare(png("small.png", disc(20, 30, 0xFF000000)), 32).skipped());
        assertEquals(ClipArt.Skip.ELONGATED, ClipArt.prepare(png("long.png", disc(100, 30, 0xFF000000)), 32).skipped());
        assertEquals(ClipArt.Skip.BLANK, ClipArt.prepare(png("blank.png", new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB)), 32).skipped());

        byte[] bytes = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.png");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        ClipArt.Prepared damaged = ClipArt.prepare(cut, 32);
        assertEquals(ClipArt.Skip.UNREADABLE, damaged.skipped());
        assertTrue(damaged.reason().contains("cut.png"), damaged.reason());

        assertEquals(5, ClipArt.list(dir).size(), "PNGs at any depth");
    }

    @Test
    void absentClipArtNamesThePackageAndTheOverride() throws IOException {
        ClipArt.NotFoundException e = assertThrows(ClipArt.NotFoundException.class, () -> ClipArt.locate(null, dir.resolve("none")));
        assertTrue(e.getMessage().contains("apt-get install openclipart-png") && e.getMessage().contains(ClipArt.ENV), e.getMessage());
        e = assertThrows(ClipArt.NotFoundException.class, () -> ClipArt.locate(dir.resolve("typo").toString(), dir));
        assertTrue(e.getMessage().contains(ClipArt.ENV + "=" + dir.resolve("typo")), e.getMessage());
        assertEquals(dir, ClipArt.locate(dir.toString(), dir.resolve("none")));
        Files.createDirectories(dir.resolve("empty"));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> ClipArt.list(dir.resolve("empty")));
        assertTrue(none.getMessage().contains("no .png"), none.getMessage());
    }

    /** A filled ellipse of {@code argb} on transparency. */
    static BufferedImage disc(int w, int h, int argb) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double dx = (x + 0.5) / w - 0.5, dy = (y + 0.5) / h - 0.5;
                if (dx * dx + dy * dy < 0.2) image.setRGB(x, y, argb);
            }
        }
        return image;
    }

    private static int[] pixel(PillowResize.Pixels p, int x, int y) {
        return new int[] {p.at(x, y, 0), p.at(x, y, 1), p.at(x, y, 2)};
    }
}
