package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinePlotTest {
    @TempDir
    Path dir;

    private static double[] loss(int n, double start, double floor, long seed) {
        java.util.Random r = new java.util.Random(seed);
        double[] s = new double[n];
        for (int i = 0; i < n; i++) s[i] = floor + (start - floor) * Math.exp(-i / 150.0) * (1 + 0.3 * r.nextGaussian() * 0.3);
        return s;
    }

    /** Pixels of a colour close to {@code rgb}. */
    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                int d = Math.abs(((p >> 16) & 255) - ((rgb >> 16) & 255)) + Math.abs(((p >> 8) & 255) - ((rgb >> 8) & 255))
                        + Math.abs((p & 255) - (rgb & 255));
                if (d < 30) n++;
            }
        }
        return n;
    }

    @Test
    void writesALinearPlotWithBothSeries() throws IOException {
        Path file = dir.resolve("plots/loss.png");
        LinePlot.write(file, "DiT training loss", List.of(loss(1000, 1.0, 0.1, 1), loss(700, 0.8, 0.15, 2)),
                List.of("train", "eval"));
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(960, img.getWidth());
        assertEquals(600, img.getHeight());
        assertTrue(count(img, 0x1f77b4) > 500, "the first series is drawn in blue");
        assertTrue(count(img, 0xff7f0e) > 300, "the second in orange");
        assertTrue(count(img, 0x000000) > 1000, "axes, ticks and text");
        ImagesTest.copyForInspection(file);
    }

    @Test
    void logScaleSkipsNonPositiveAndNonFiniteValues() throws IOException {
        double[] s = loss(500, 2.0, 0.01, 3);
        s[10] = 0;
        s[20] = -1;
        s[30] = Double.NaN;
        s[40] = Double.POSITIVE_INFINITY;
        Path file = dir.resolve("log.png");
        new LinePlot().title("log loss").yLabel("loss").xLabel("step").logY(true).xStep(100).size(640, 400)
                .write(file, List.of(s), List.of("mse"));
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(640, img.getWidth());
        assertTrue(count(img, 0x1f77b4) > 300);
        ImagesTest.copyForInspection(file);
    }

    @Test
    void emptyAndConstantSeriesStillDraw() throws IOException {
        LinePlot.write(dir.resolve("empty.png"), "nothing", List.of(new double[0]), List.of("none"), true);
        LinePlot.write(dir.resolve("flat.png"), "flat", List.of(new double[] {3, 3, 3}), List.of("flat"));
        LinePlot.write(dir.resolve("one.png"), "one point", List.of(new double[] {0.5}), List.of("one"), true);
        assertNotNull(ImageIO.read(dir.resolve("empty.png").toFile()));
        assertTrue(count(ImageIO.read(dir.resolve("flat.png").toFile()), 0x1f77b4) > 100);
    }

    @Test
    void namesMustMatchSeries() {
        assertThrows(IllegalArgumentException.class,
                () -> LinePlot.write(dir.resolve("x.png"), "t", List.of(new double[] {1}), List.of()));
    }

    @Test
    void ticksAreRound() {
        assertEquals(List.of(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), LinePlot.Ticks.linear(0.01, 0.97));
        assertEquals(List.of(0.0, 200.0, 400.0, 600.0, 800.0, 1000.0), LinePlot.Ticks.linear(0, 999));
        List<String> labels = new ArrayList<>();
        for (double t : LinePlot.Ticks.logarithmic(-4, -2)) labels.add(LinePlot.Ticks.label(t));
        assertEquals(List.of("1e-4", "2e-4", "5e-4", "0.001", "0.002", "0.005", "0.01"), labels);
        assertArrayEquals(new double[] {-2, 1}, LinePlot.Ticks.decades(0.02, 3.5));
        assertEquals("2.5e5", LinePlot.Ticks.label(2.5e5));
        assertEquals("1e-5", LinePlot.Ticks.label(1e-5));
        assertEquals("0.3", LinePlot.Ticks.label(0.1 + 0.2));
    }
}
