package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Torch;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** train-vae at toy sizes: its lines and files. */
class TrainVaeTest {
    @TempDir
    Path dir;

    @Test
    void trainsReportsAndWritesTheAutoencoder() throws Exception {
        long live = Torch.liveTensors();
        Path images = dir.resolve("images/all"), out = dir.resolve("vae");
        Files.createDirectories(images);
        for (int i = 0; i < 5; i++) {
            BufferedImage img = new BufferedImage(20 + i, 18, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (x * 10 + i * 30) << 16 | (y * 8) << 8 | i * 40);
            ImageIO.write(img, "png", images.resolve("img" + i + ".png").toFile());
        }
        PrintStream stdout = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new TrainVae()).execute("--images", dir.resolve("images").toString(), "--size", "16", "--crop", "8", "--steps", "2",
                    "--batch", "2", "--channels", "8", "--ch-mult", "1,2", "--held-out", "2", "--report-every", "1", "--psnr-every", "2", "--out", out.toString());
        } finally {
            System.setOut(stdout);
        }
        String log = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, log);
        assertTrue(log.contains("train-vae: 3 training and 2 held-out images at 16 px (trained on 8 px crops)"), log);
        assertTrue(log.contains("step 1/2: loss") && !log.lines().filter(l -> l.startsWith("step 1/2")).findFirst().orElseThrow().contains("PSNR"), log);
        assertTrue(log.contains("step 2/2: loss") && log.contains("held-out PSNR"), log);
        assertTrue(log.contains("train-vae: 2 steps in") && log.contains("held-out reconstruction PSNR") && log.contains("latent scale"), log);
        for (String f : new String[] {"vae.safetensors", "config.json", "reconstructions.png"}) assertTrue(Files.isRegularFile(out.resolve(f)), f);
        assertEquals(live, Torch.liveTensors());
    }
}
