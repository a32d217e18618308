package dev.dit4j.examples;

import dev.dit4j.models.data.Images;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A grid of images [N, C, H, W] in [-1, 1], each enlarged to a cell and captioned with its prompt underneath. */
final class CaptionedGrid {
    private static final int CELL = 128, LINES = 3, PAD = 4;

    private CaptionedGrid() {}

    static void write(Tensor images, List<String> captions, int columns, Path file) {
        int n = (int) images.size(0);
        if (captions.size() != n) throw new IllegalArgumentException(n + " images but " + captions.size() + " captions");
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true"); // no display on training machines
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
        int rows = (n + columns - 1) / columns;
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        FontMetrics fm = probe.createGraphics().getFontMetrics(font);
        int textHeight = LINES * fm.getHeight() + PAD, cellH = CELL + textHeight;
        BufferedImage out = new BufferedImage(columns * (CELL + PAD) + PAD, rows * (cellH + PAD) + PAD, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.setFont(font);
        g.setColor(Color.BLACK);
        for (int i = 0; i < n; i++) {
            int x = PAD + (i % columns) * (CELL + PAD), y = PAD + (i / columns) * (cellH + PAD);
            BufferedImage one;
            try (TensorScope s = TensorScope.open()) {
                one = Images.grid(images.narrow(0, i, 1), 1, 0);
            }
            g.drawImage(one, x, y, CELL, CELL, null);
            List<String> lines = wrap(captions.get(i), fm, CELL);
            for (int l = 0; l < Math.min(LINES, lines.size()); l++) g.drawString(lines.get(l), x, y + CELL + (l + 1) * fm.getHeight());
        }
        g.dispose();
        Images.write(out, file);
    }

    /** Words greedily filled into lines of at most {@code width} pixels. */
    private static List<String> wrap(String text, FontMetrics fm, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.strip().split("\\s+")) {
            String next = line.isEmpty() ? word : line + " " + word;
            if (fm.stringWidth(next) > width && !line.isEmpty()) {
                lines.add(line.toString());
                line = new StringBuilder(word);
            } else {
                line = new StringBuilder(next);
            }
        }
        if (!line.isEmpty()) lines.add(line.toString());
        return lines;
    }
}
