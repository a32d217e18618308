package dev.dit4j.examples;

import dev.dit4j.nn.Tensor;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** PNG output: an image grid from a tensor, and a line plot of a training curve. */
final class Png {
    private Png() {}

    /** Images [N, C, H, W] in [-1, 1] (C = 1 or 3), {@code columns} per row, 2-pixel white gaps. */
    static void writeGrid(Tensor images, int columns, Path file) {
        long[] s = images.shape();
        int n = (int) s[0], c = (int) s[1], h = (int) s[2], w = (int) s[3];
        float[] v = images.toFloatArray();
        int rows = (n + columns - 1) / columns, gap = 2;
        BufferedImage out = new BufferedImage(columns * (w + gap) + gap, rows * (h + gap) + gap, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.dispose();
        for (int i = 0; i < n; i++) {
            int x0 = gap + (i % columns) * (w + gap), y0 = gap + (i / columns) * (h + gap);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int[] rgb = new int[3];
                    for (int k = 0; k < 3; k++) {
                        float value = v[((i * c + (c == 3 ? k : 0)) * h + y) * w + x];
                        rgb[k] = (int) Math.max(0, Math.min(255, 127.5f * value + 128)); // the reference's uint8 mapping
                    }
                    out.setRGB(x0 + x, y0 + y, (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]);
                }
            }
        }
        write(out, file);
    }

    /** A line chart of y over x with labelled axes. */
    static void writePlot(double[] x, double[] y, String title, String xLabel, String yLabel, Path file) {
        System.setProperty("java.awt.headless", "true");
        int width = 800, height = 500, left = 70, right = 20, top = 40, bottom = 50;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double xMin = x.length == 0 ? 0 : x[0], xMax = x.length == 0 ? 1 : x[x.length - 1];
        double yMin = Double.MAX_VALUE, yMax = -Double.MAX_VALUE;
        for (double v : y) {
            yMin = Math.min(yMin, v);
            yMax = Math.max(yMax, v);
        }
        if (y.length == 0 || yMax <= yMin) {
            yMin = y.length == 0 ? 0 : yMin - 1;
            yMax = yMin + 2;
        }
        if (xMax <= xMin) xMax = xMin + 1;
        int plotW = width - left - right, plotH = height - top - bottom;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, left, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawRect(left, top, plotW, plotH);
        for (int i = 0; i <= 5; i++) {
            double yv = yMin + (yMax - yMin) * i / 5;
            int py = top + plotH - (int) (plotH * i / 5.0);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(left + 1, py, left + plotW - 1, py);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.3f", yv), 5, py + 4);
            double xv = xMin + (xMax - xMin) * i / 5;
            int px = left + (int) (plotW * i / 5.0);
            g.drawString(String.format("%.0f", xv), px - 10, top + plotH + 18);
        }
        g.drawString(xLabel, left + plotW / 2 - 20, height - 10);
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -(top + plotH / 2 + 20), 14);
        g.rotate(Math.PI / 2);
        g.setColor(new Color(31, 119, 180));
        g.setStroke(new BasicStroke(1.5f));
        for (int i = 1; i < y.length; i++) {
            int x1 = left + (int) (plotW * (x[i - 1] - xMin) / (xMax - xMin)), y1 = top + plotH - (int) (plotH * (y[i - 1] - yMin) / (yMax - yMin));
            int x2 = left + (int) (plotW * (x[i] - xMin) / (xMax - xMin)), y2 = top + plotH - (int) (plotH * (y[i] - yMin) / (yMax - yMin));
            g.drawLine(x1, y1, x2, y2);
        }
        g.dispose();
        write(img, file);
    }

    private static void write(BufferedImage img, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            ImageIO.write(img, "png", file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
