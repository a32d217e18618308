package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossPlotTest {
    @TempDir
    Path dir;

    /** A decaying, noisy loss read every 25 steps. */
    private static double[] loss(int n) {
        java.util.Random r = new java.util.Random(7);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) y[i] = (0.05 + Math.exp(-i / 30.0)) * (1 + 0.15 * r.nextGaussian());
        return y;
    }

    private static long[] steps(int n) {
        long[] x = new long[n];
        for (int i = 0; i < n; i++) x[i] = 25L * (i + 1);
        return x;
    }

    private static BufferedImage read(Path file) throws IOException {
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, file + " is not an image ImageIO can decode");
        return image;
    }

    @Test
    void writesAPngOfTheChartSizeAndLeavesNoTemporaryFile() throws IOException {
        Path file = dir.resolve("run/loss.png");
        LossPlot.write(file, "DiT on Fashion-MNIST: training loss", steps(200), loss(200));
        BufferedImage image = read(file);
        assertEquals(LossPlot.WIDTH, image.getWidth());
        assertEquals(LossPlot.HEIGHT, image.getHeight());
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(java.util.List.of(file), files.toList(), "only loss.png, no temporary file left behind");
        }
    }

    @Test
    void replacesAnEarlierChart() throws IOException {
        Path file = dir.resolve("loss.png");
        Files.writeString(file, "not a png");
        LossPlot.write(file, "again", steps(50), loss(50));
        assertEquals(LossPlot.WIDTH, read(file).getWidth());
    }

    @Test
    void smoothsWithTheDebiasedExponentialMovingAverage() {
        // weight 0.5: 4; (0.5*4 + 2) / 1.5; (0.25*4 + 0.5*2 + 1) / 1.75
        assertArrayEquals(new double[] {4, 8 / 3.0, 3 / 1.75}, LossPlot.smooth(new double[] {4, 2, 1}, 0.5), 1e-12);
        // weight 0.9 on a step from 1 to 0: 0.9 / 1.9, then 0.81 / 2.71
        assertArrayEquals(new double[] {1, 0.9 / 1.9, 0.81 / 2.71}, LossPlot.smooth(new double[] {1, 0, 0}, 0.9), 1e-12);
        assertArrayEquals(new double[] {3, 1, 2}, LossPlot.smooth(new double[] {3, 1, 2}, 0), "weight 0 leaves the readings as they are");
        assertArrayEquals(new double[0], LossPlot.smooth(new double[0], 0.5));
        assertThrows(IllegalArgumentException.class, () -> LossPlot.smooth(new double[] {1}, 1));
    }

    @Test
    void smoothingAveragesOverAboutATwentiethOfTheRun() {
        assertEquals(0, LossPlot.smoothingWeight(1));
        assertEquals(0, LossPlot.smoothingWeight(20));
        assertEquals(0.5, LossPlot.smoothingWeight(40), 1e-12);
        assertEquals(0.99, LossPlot.smoothingWeight(2000), 1e-12);
    }

    @Test
    void aLongRunGetsASmoothedCurveBesideItsReadingsAShortOneOnlyItsReadings() {
        var series = LossPlot.chart("t", steps(200), loss(200)).getSeriesMap();
        assertEquals(2, series.size(), series.keySet().toString());
        double[] smoothed = series.get("smoothed (EMA, weight 0.90)").getYData();
        assertArrayEquals(LossPlot.smooth(loss(200), 0.9), smoothed, 1e-12);
        assertEquals(java.util.Set.of("loss readings"), LossPlot.chart("t", steps(20), loss(20)).getSeriesMap().keySet());
    }

    @Test
    void theYAxisIsLogarithmicForPositiveLossesAndLinearOtherwise() {
        assertTrue(LossPlot.chart("t", steps(3), new double[] {1, 0.5, 0.2}).getStyler().isYAxisLogarithmic());
        assertFalse(LossPlot.chart("t", steps(3), new double[] {1, 0, -0.5}).getStyler().isYAxisLogarithmic(),
                "a reading <= 0 cannot sit on a log axis: the axis turns linear instead of hiding it");
    }

    @Test
    void nonPositiveAndNonFiniteReadingsStillDrawAChart() throws IOException {
        LossPlot.write(dir.resolve("signed.png"), "signed", steps(4), new double[] {1, 0, -0.5, 0.2});
        assertEquals(LossPlot.HEIGHT, read(dir.resolve("signed.png")).getHeight());
        LossPlot.write(dir.resolve("nan.png"), "diverged", steps(3), new double[] {1, Double.NaN, Double.POSITIVE_INFINITY});
        assertEquals(LossPlot.HEIGHT, read(dir.resolve("nan.png")).getHeight());
        assertEquals(1, LossPlot.chart("t", steps(3), new double[] {1, Double.NaN, Double.NaN}).getSeriesMap().get("loss readings").getXData().length,
                "NaN and infinite readings are left out");
    }

    @Test
    void aSingleReadingIsDrawn() throws IOException {
        LossPlot.write(dir.resolve("one.png"), "one reading", new long[] {25}, new double[] {0.7});
        assertEquals(LossPlot.WIDTH, read(dir.resolve("one.png")).getWidth());
    }

    @Test
    void nothingToDrawIsRefusedClearly() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> LossPlot.write(dir.resolve("empty.png"), "t", new long[0], new double[0]));
        assertTrue(empty.getMessage().contains("no finite loss readings"), empty.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LossPlot.chart("t", steps(2), new double[] {Double.NaN, Double.NaN}));
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class, () -> LossPlot.chart("t", steps(2), new double[3]));
        assertTrue(mismatch.getMessage().contains("2 steps but 3"), mismatch.getMessage());
        assertFalse(Files.exists(dir.resolve("empty.png")));
    }

    @Test
    void anEvaluationDuringTrainingSharesTheChartOnASecondAxis() throws IOException {
        LossPlot.Series fid = LossPlot.Series.of("FID (classifier features, 100 samples)", new long[] {1000, 2000, 3000}, new double[] {80, 35, 21});
        var chart = LossPlot.chart("t", steps(200), loss(200), fid);
        var series = chart.getSeriesMap().get(fid.name());
        assertNotNull(series, chart.getSeriesMap().keySet().toString());
        assertEquals(1, series.getYAxisGroup());
        assertEquals(3, chart.getSeriesMap().size(), "readings, smoothed, FID");
        assertTrue(chart.getStyler().isYAxisLogarithmic());
        Path file = dir.resolve("loss-fid.png");
        LossPlot.write(file, "t", steps(200), loss(200), fid);
        assertEquals(LossPlot.WIDTH, read(file).getWidth());
        // no finite reading: no second series; a non-positive one: linear axes
        assertEquals(2, LossPlot.chart("t", steps(200), loss(200), LossPlot.Series.of("x", new long[] {1}, new double[] {Double.NaN})).getSeriesMap().size());
        assertFalse(LossPlot.chart("t", steps(200), loss(200), LossPlot.Series.of("x", new long[] {1, 2}, new double[] {3, -0.1})).getStyler().isYAxisLogarithmic());
        assertEquals(2, LossPlot.chart("t", steps(200), loss(200), null).getSeriesMap().size());
    }

    @Test
    void turnsAwtHeadlessUnlessTheUserChose() {
        String before = System.clearProperty("java.awt.headless");
        try {
            LossPlot.chart("t", steps(2), new double[] {1, 0.5});
            assertEquals("true", System.getProperty("java.awt.headless"), "training machines have no display");
            System.setProperty("java.awt.headless", "false"); // AWT is already up headless: this only checks the property is left alone
            LossPlot.chart("t", steps(2), new double[] {1, 0.5});
            assertEquals("false", System.getProperty("java.awt.headless"), "the user's choice stands");
        } finally {
            if (before == null) System.clearProperty("java.awt.headless");
            else System.setProperty("java.awt.headless", before);
        }
    }
}
