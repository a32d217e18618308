package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaptionedImagesTest {
    @TempDir
    Path dir;

    private Path image(String relative, int rgb) throws IOException {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(6, 4, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) for (int x = 0; x < 6; x++) img.setRGB(x, y, rgb);
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    @Test
    void folderWithSameStemTextFiles() throws IOException {
        image("a/red.png", 0xFF0000);
        Files.writeString(dir.resolve("a/red.txt"), "a red square\n\na crimson patch\n");
        image("blue.png", 0x0000FF);
        Files.writeString(dir.resolve("blue.txt"), "a blue square");
        CaptionedImages data = CaptionedImages.open(dir, 4);
        assertEquals(2, data.size());
        assertEquals(dir.resolve("a/red.png"), data.file(0));
        assertEquals(List.of("a red square", "a crimson patch"), data.captions(0), "blank lines are not captions");
        assertEquals(List.of("a blue square"), data.captions(1));
        assertArrayEquals(new long[] {3, 4, 4}, data.imageShape());
        float[] chw = new float[data.imageElements()];
        data.readImage(0, chw);
        assertEquals(1f, chw[0], 1e-6);
        assertEquals(-1f, chw[16], 1e-6, "green plane of a red image");
        assertTrue(data.classes().isEmpty());
    }

    @Test
    void oneCaptionDrawnPerEpochFromSeveral() throws IOException {
        image("x.png", 0);
        Files.writeString(dir.resolve("x.txt"), "one\ntwo\nthree\nfour\n");
        CaptionedImages data = CaptionedImages.open(dir, 4);
        Set<String> seen = new HashSet<>();
        for (int epoch = 0; epoch < 40; epoch++) {
            String c = data.caption(0, epoch, 7);
            assertEquals(c, data.caption(0, epoch, 7), "the same epoch draws the same caption");
            seen.add(c);
        }
        assertEquals(Set.of("one", "two", "three", "four"), seen);
    }

    @Test
    void jsonLinesAndCsvManifests() throws IOException {
        image("img/1.png", 0x00FF00);
        image("img/2.jpg.png", 0x00FF00);
        Path jsonl = Files.writeString(dir.resolve("m.jsonl"), """
                {"file": "img/1.png", "caption": "a green \\"square\\""}
                {"image": "img/2.jpg.png", "captions": ["first", "second"]}
                {"path": "img/1.png", "text": "another caption of the first"}
                """);
        CaptionedImages fromJson = CaptionedImages.open(jsonl, 4);
        assertEquals(2, fromJson.size());
        assertEquals(List.of("a green \"square\"", "another caption of the first"), fromJson.captions(0));
        assertEquals(List.of("first", "second"), fromJson.captions(1));

        Path csv = Files.writeString(dir.resolve("m.csv"), "id,Caption,file\n1,\"green, with a comma and \"\"quotes\"\"\",img/1.png\n"
                + "2,\"two\nlines\",img/2.jpg.png\n", StandardCharsets.UTF_8);
        CaptionedImages fromCsv = CaptionedImages.open(csv, 4);
        assertEquals(List.of("green, with a comma and \"quotes\""), fromCsv.captions(0));
        assertEquals(List.of("two\nlines"), fromCsv.captions(1));
    }

    @Test
    void badSourcesAreNamed() throws IOException {
        image("lonely.png", 0);
        var e = assertThrows(IllegalArgumentException.class, () -> CaptionedImages.open(dir, 4));
        assertTrue(e.getMessage().contains("lonely.png") && e.getMessage().contains(".txt"), e.getMessage());

        Path missing = Files.writeString(dir.resolve("m.jsonl"), "{\"file\": \"nope.png\", \"caption\": \"x\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> CaptionedImages.open(missing, 4));
        assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("nope.png"), e.getMessage());

        Path broken = Files.writeString(dir.resolve("b.jsonl"), "{\"file\": \"lonely.png\", \"caption\": \"x\"}\nnot json\n");
        e = assertThrows(IllegalArgumentException.class, () -> CaptionedImages.open(broken, 4));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());

        Path noColumn = Files.writeString(dir.resolve("n.csv"), "file,label\nlonely.png,3\n");
        e = assertThrows(IllegalArgumentException.class, () -> CaptionedImages.open(noColumn, 4));
        assertTrue(e.getMessage().contains("caption"), e.getMessage());

        Files.write(dir.resolve("lonely.txt"), new byte[] {'o', 'k', '\n', (byte) 0xFF, '\n'});
        e = assertThrows(IllegalArgumentException.class, () -> CaptionedImages.open(dir, 4));
        assertTrue(e.getMessage().contains("lonely.txt") && e.getMessage().contains("line 2") && e.getMessage().contains("UTF-8"), e.getMessage());

        Path other = Files.writeString(dir.resolve("m.tsv"), "");
        e = assertThrows(IllegalArgumentException.class, () -> CaptionedImages.open(other, 4));
        assertTrue(e.getMessage().contains(".jsonl or .csv"), e.getMessage());
    }
}
