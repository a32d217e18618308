package dev.dit4j.models.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A PNG line chart drawn with java.awt (headless), for loss curves: one line per series, point
 * i at x = i * xStep, with axes, ticks, grid, title, axis labels and a legend. On a log y axis
 * points <= 0 are left out; NaN and infinite points always are, breaking the line.
 *
 * <pre>{@code
 * new LinePlot().title("DiT-S/2 loss").yLabel("loss").logY(true).xStep(100).write(file, List.of(losses), List.of("train"));
 * }</pre>
 */
public final class LinePlot {
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf)};
    private static final int LEFT = 84;
    private static final int RIGHT = 24;
    private static final int TOP = 44;
    private static final int BOTTOM = 60;

    private String title = "";
    private String xLabel = "step";
    private String yLabel = "";
    private boolean logY;
    private double xStep = 1;
    private int width = 960;
    private int height = 600;

    /** A linear plot. */
    public static void write(Path file, String title, List<double[]> series, List<String> names) {
        write(file, title, series, names, false);
    }

    public static void write(Path file, String title, List<double[]> series, List<String> names, boolean logY) {
        new LinePlot().title(title).logY(logY).write(file, series, names);
    }

    public LinePlot title(String title) {
        this.title = title;
        return this;
    }

    public LinePlot xLabel(String label) {
        this.xLabel = label;
        return this;
    }

    public LinePlot yLabel(String label) {
        this.yLabel = label;
        return this;
    }

    public LinePlot logY(boolean log) {
        this.logY = log;
        return this;
    }

    /** The x distance between consecutive points, e.g. the steps between two logged losses. */
    public LinePlot xStep(double step) {
        if (!(step > 0)) throw new IllegalArgumentException("xStep must be > 0, got " + step);
        this.xStep = step;
        return this;
    }

    public LinePlot size(int width, int height) {
        if (width < LEFT + RIGHT + 50 || height < TOP + BOTTOM + 50) throw new IllegalArgumentException("plot too small: " + width + "x" + height);
        this.width = width;
        this.height = height;
        return this;
    }

    public void write(Path file, List<double[]> series, List<String> names) {
        Images.write(render(series, names), file);
    }

    public BufferedImage render(List<double[]> series, List<String> names) {
        if (series.size() != names.size()) {
            throw new IllegalArgumentException(series.size() + " series but " + names.size() + " names");
        }
        Headless.ensure();
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            draw(g, series, names);
        } finally {
            g.dispose();
        }
        return image;
    }

    private boolean drawable(double v) {
        return Double.isFinite(v) && (!logY || v > 0);
    }

    /** Maps data to pixels inside the plot area. */
    private record Frame(double x0, double x1, double y0, double y1, boolean logY, int left, int top, int w, int h) {
        double px(double x) {
            return left + (x - x0) / (x1 - x0) * w;
        }

        double py(double y) {
            double v = logY ? Math.log10(y) : y;
            return top + h - (v - y0) / (y1 - y0) * h;
        }
    }

    private void draw(Graphics2D g, List<double[]> series, List<String> names) {
        int longest = 0;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] s : series) {
            longest = Math.max(longest, s.length);
            for (double v : s) {
                if (!drawable(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        boolean empty = lo > hi;
        if (empty) {
            lo = logY ? 0.1 : 0;
            hi = 1;
        }
        double xMax = Math.max(longest - 1, 1) * xStep;
        List<Double> xTicks = Ticks.linear(0, xMax);
        double[] yRange;
        List<Double> yTicks;
        if (logY) {
            yRange = Ticks.decades(lo, hi);
            yTicks = Ticks.logarithmic(yRange[0], yRange[1]);
        } else {
            yTicks = Ticks.linear(lo, hi);
            yRange = new double[] {yTicks.get(0), yTicks.get(yTicks.size() - 1)};
        }
        Frame f = new Frame(0, xTicks.get(xTicks.size() - 1), yRange[0], yRange[1], logY, LEFT, TOP,
                width - LEFT - RIGHT, height - TOP - BOTTOM);

        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        g.setFont(font);
        FontMetrics fm = g.getFontMetrics();
        drawGridAndTicks(g, fm, f, xTicks, yTicks);

        g.setColor(Color.BLACK);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(f.left(), f.top(), f.w(), f.h());

        var clip = g.getClip();
        g.clipRect(f.left(), f.top(), f.w() + 1, f.h() + 1);
        g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        for (int k = 0; k < series.size(); k++) {
            g.setColor(PALETTE[k % PALETTE.length]);
            g.draw(line(series.get(k), f));
        }
        g.setClip(clip);

        if (empty) centered(g, "no data", f.left() + f.w() / 2, f.top() + f.h() / 2);
        g.setColor(Color.BLACK);
        g.setFont(font.deriveFont(Font.BOLD, 15f));
        centered(g, title, width / 2, TOP / 2 + 6);
        g.setFont(font.deriveFont(13f));
        centered(g, xLabel, f.left() + f.w() / 2, height - 14);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        centered(g, yLabel, -(f.top() + f.h() / 2), 18);
        g.setTransform(saved);
        g.setFont(font);
        drawLegend(g, f, names);
    }

    private Path2D line(double[] s, Frame f) {
        Path2D.Double path = new Path2D.Double();
        boolean pen = false;
        for (int i = 0; i < s.length; i++) {
            if (!drawable(s[i])) {
                pen = false;
                continue;
            }
            double x = f.px(i * xStep);
            double y = f.py(s[i]);
            if (pen) {
                path.lineTo(x, y);
            } else {
                path.moveTo(x, y);
                path.lineTo(x, y); // a lone point still shows as a dot with round caps
                pen = true;
            }
        }
        return path;
    }

    private void drawGridAndTicks(Graphics2D g, FontMetrics fm, Frame f, List<Double> xTicks, List<Double> yTicks) {
        Color grid = new Color(0xe6e6e6);
        for (double x : xTicks) {
            int px = (int) Math.round(f.px(x));
            g.setColor(grid);
            g.drawLine(px, f.top(), px, f.top() + f.h());
            g.setColor(Color.BLACK);
            g.drawLine(px, f.top() + f.h(), px, f.top() + f.h() + 5);
            centered(g, Ticks.label(x), px, f.top() + f.h() + 8 + fm.getAscent());
        }
        if (logY) {
            g.setColor(new Color(0xf2f2f2));
            for (double d = f.y0(); d < f.y1(); d++) {
                for (int m = 2; m <= 9; m++) {
                    int py = (int) Math.round(f.py(m * Math.pow(10, d)));
                    g.drawLine(f.left(), py, f.left() + f.w(), py);
                }
            }
        }
        for (double y : yTicks) {
            int py = (int) Math.round(f.py(y));
            g.setColor(grid);
            g.drawLine(f.left(), py, f.left() + f.w(), py);
            g.setColor(Color.BLACK);
            g.drawLine(f.left() - 5, py, f.left(), py);
            String label = Ticks.label(y);
            g.drawString(label, f.left() - 8 - fm.stringWidth(label), py + fm.getAscent() / 2 - 1);
        }
    }

    private void drawLegend(Graphics2D g, Frame f, List<String> names) {
        if (names.isEmpty()) return;
        FontMetrics fm = g.getFontMetrics();
        int line = fm.getHeight() + 2;
        int textWidth = names.stream().mapToInt(fm::stringWidth).max().orElse(0);
        int w = textWidth + 40;
        int h = names.size() * line + 8;
        int x = f.left() + f.w() - w - 8;
        int y = f.top() + 8;
        g.setColor(new Color(255, 255, 255, 220));
        g.fillRect(x, y, w, h);
        g.setColor(Color.GRAY);
        g.drawRect(x, y, w, h);
        for (int k = 0; k < names.size(); k++) {
            int baseline = y + 4 + (k + 1) * line - fm.getDescent() - 2;
            g.setColor(PALETTE[k % PALETTE.length]);
            g.setStroke(new BasicStroke(2.5f));
            g.drawLine(x + 8, baseline - fm.getAscent() / 3, x + 28, baseline - fm.getAscent() / 3);
            g.setColor(Color.BLACK);
            g.drawString(names.get(k), x + 34, baseline);
        }
    }

    private static void centered(Graphics2D g, String text, int x, int baseline) {
        if (text == null || text.isEmpty()) return;
        g.drawString(text, x - g.getFontMetrics().stringWidth(text) / 2, baseline);
    }

    /** Axis ticks at round numbers. */
    static final class Ticks {
        private Ticks() {}

        /** About 5-10 ticks at multiples of 1, 2 or 5 times a power of ten, covering [lo, hi]. */
        static List<Double> linear(double lo, double hi) {
            if (hi - lo < Math.max(Math.abs(hi), 1e-300) * 1e-12) {
                double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
                lo -= pad;
                hi += pad;
            }
            double raw = (hi - lo) / 6;
            double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
            double step = magnitude;
            for (double m : new double[] {1, 2, 5, 10}) {
                step = m * magnitude;
                if (step >= raw) break;
            }
            double first = Math.floor(lo / step) * step;
            double last = Math.ceil(hi / step) * step;
            List<Double> ticks = new ArrayList<>();
            long n = Math.round((last - first) / step);
            for (long i = 0; i <= n; i++) ticks.add(clean(first + i * step, step));
            return ticks;
        }

        /** [floor(log10 lo), ceil(log10 hi)], at least one decade wide. */
        static double[] decades(double lo, double hi) {
            double a = Math.floor(Math.log10(lo));
            double b = Math.ceil(Math.log10(hi));
            if (b <= a) b = a + 1;
            return new double[] {a, b};
        }

        /** Every decade in [10^a, 10^b]; with few decades also the 2s and 5s. */
        static List<Double> logarithmic(double a, double b) {
            List<Double> ticks = new ArrayList<>();
            int every = (int) Math.max(1, Math.ceil((b - a) / 8));
            for (double d = a; d <= b; d += every) {
                double p = Math.pow(10, d);
                ticks.add(p);
                if (b - a <= 2 && d < b) {
                    ticks.add(2 * p);
                    ticks.add(5 * p);
                }
            }
            return ticks;
        }

        /** Removes the float noise of first + i * step (0.30000000000000004). */
        private static double clean(double v, double step) {
            double unit = Math.pow(10, Math.floor(Math.log10(step)) - 3);
            return Math.round(v / unit) * unit;
        }

        static String label(double v) {
            if (v == 0) return "0";
            double a = Math.abs(v);
            if (a >= 1e5 || a < 1e-3) {
                // 2.50e-04 -> 2.5e-4
                return String.format(Locale.ROOT, "%.2e", v).replaceAll("\\.?0+e", "e").replace("e+0", "e").replace("e-0", "e-")
                        .replace("e+", "e");
            }
            String s = String.format(Locale.ROOT, "%.4f", v);
            s = s.replaceAll("0+$", "");
            return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        }
    }
}
