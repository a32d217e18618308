package dev.dit4j.examples;

import dev.dit4j.nn.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The training-loss chart (PNG, drawn with XChart): the raw loss readings thin and light, their
 * smoothed curve bold on top, the y axis logarithmic. The smoothing is the debiased exponential
 * moving average that TensorBoard draws, see {@link #smooth}; with 20 readings or fewer there is
 * nothing to smooth and the readings alone are drawn bold. An evaluation read during training (the
 * FID of {@code --fid-every}) may share the chart: its points, joined, in orange on a second y
 * axis at the right.
 */
final class LossPlot {
    static final int WIDTH = 960;
    static final int HEIGHT = 600;
    private static final Color LIGHT = new Color(31, 119, 180, 70);
    private static final Color BOLD = new Color(31, 119, 180);
    private static final Color SECOND = new Color(255, 127, 14);

    /** A second quantity read at some steps, drawn against its own y axis (named {@code name}). */
    record Series(String name, long[] steps, double[] values) {
        static Series of(String name, long[] steps, double[] values) {
            if (steps.length != values.length) throw new IllegalArgumentException(steps.length + " steps but " + values.length + " readings of " + name);
            return new Series(name, steps, values);
        }
    }

    private LossPlot() {}

    /**
     * Writes the chart of {@code losses} read at {@code steps} to {@code file}, atomically. Readings
     * that are NaN or infinite are left out; when any remaining reading is <= 0 the y axis is
     * linear instead of logarithmic, so that nothing is hidden.
     */
    static void write(Path file, String title, long[] steps, double[] losses) {
        write(file, title, steps, losses, null);
    }

    /** As {@link #write(Path, String, long[], double[])}, with {@code second} (may be null) on a second y axis. */
    static void write(Path file, String title, long[] steps, double[] losses, Series second) {
        byte[] png;
        try {
            png = BitmapEncoder.getBitmapBytes(chart(title, steps, losses, second), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the loss chart " + file + ": " + e.getMessage(), e);
        }
        AtomicFiles.write(file, ch -> {
            ByteBuffer buffer = ByteBuffer.wrap(png);
            while (buffer.hasRemaining()) ch.write(buffer);
        });
    }

    /** The chart itself; {@link #write} encodes it. */
    static XYChart chart(String title, long[] steps, double[] losses) {
        return chart(title, steps, losses, null);
    }

    /** The chart, with {@code second} (may be null, or without finite readings) on a second y axis. */
    static XYChart chart(String title, long[] steps, double[] losses, Series second) {
        Readings r = Readings.finite(steps, losses);
        int n = r.losses().length;
        Readings extra = second == null || Arrays.stream(second.values()).noneMatch(Double::isFinite) ? null : Readings.finite(second.steps(), second.values());
        // the y axes share one scale type: logarithmic only when every reading of both is positive
        boolean positive = Arrays.stream(r.losses()).allMatch(loss -> loss > 0) && (extra == null || Arrays.stream(extra.losses()).allMatch(v -> v > 0));

        // Training machines have no display; without this AWT may try to reach an X server.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("step").yAxisTitle("loss").build();
        XYStyler styler = chart.getStyler();
        styler.setYAxisLogarithmic(positive);
        styler.setYAxisLogarithmicDecadeOnly(false); // a run whose loss spans less than a decade still gets labels
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        styler.setMarkerSize(6);

        XYSeries raw = chart.addSeries("loss readings", r.steps(), r.losses());
        raw.setMarker(n == 1 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE); // a single reading has no line: mark it
        raw.setMarkerColor(BOLD);
        double weight = smoothingWeight(n);
        if (weight == 0) {
            draw(raw, BOLD, 2.5f); // too few readings to smooth: they are the curve
        } else {
            draw(raw, LIGHT, 1f);
            XYSeries smoothed = chart.addSeries(String.format(Locale.ROOT, "smoothed (EMA, weight %.2f)", weight), r.steps(), smooth(r.losses(), weight));
            draw(smoothed, BOLD, 2.5f);
            smoothed.setMarker(SeriesMarkers.NONE);
        }
        if (extra != null) {
            XYSeries s = chart.addSeries(second.name(), extra.steps(), extra.losses());
            s.setYAxisGroup(1);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(SECOND);
            draw(s, SECOND, 2f);
            styler.setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
            chart.setYAxisGroupTitle(0, "loss");
            chart.setYAxisGroupTitle(1, second.name());
        }
        return chart;
    }

    private static void draw(XYSeries series, Color color, float width) {
        series.setLineColor(color);
        series.setLineStyle(new BasicStroke(width));
    }

    /** The finite readings, in order; NaN and infinite ones (a diverged step) cannot be drawn. */
    private record Readings(double[] steps, double[] losses) {
        static Readings finite(long[] steps, double[] losses) {
            if (steps.length != losses.length) {
                throw new IllegalArgumentException(steps.length + " steps but " + losses.length + " loss readings");
            }
            int[] kept = IntStream.range(0, losses.length).filter(i -> Double.isFinite(losses[i])).toArray();
            if (kept.length == 0) throw new IllegalArgumentException("no finite loss readings to plot");
            return new Readings(Arrays.stream(kept).mapToDouble(i -> steps[i]).toArray(), Arrays.stream(kept).mapToDouble(i -> losses[i]).toArray());
        }
    }

    /**
     * The debiased exponential moving average: point i is the mean of readings 0..i weighted by
     * {@code weight^(i-k)}, so it starts at the first reading instead of creeping up from zero.
     * Weight 0 is no smoothing; 0.9 averages over about the last 10 readings.
     */
    static double[] smooth(double[] values, double weight) {
        if (!(weight >= 0 && weight < 1)) throw new IllegalArgumentException("smoothing weight must be in [0, 1), got " + weight);
        double[] out = new double[values.length];
        double sum = 0;
        double norm = 0;
        for (int i = 0; i < values.length; i++) {
            sum = weight * sum + values[i];
            norm = weight * norm + 1;
            out[i] = sum / norm;
        }
        return out;
    }

    /** A weight that averages over about a twentieth of the run: smooth at any length, short enough to lag little. */
    static double smoothingWeight(int readings) {
        return 1 - 1 / Math.max(1, readings / 20.0);
    }
}
