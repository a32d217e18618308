package dev.dit4j.models.vae;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Torch;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** AutoencoderTraining on a few tiny PNGs: the weights, config.json and figure written, the reports, nothing leaked, bad settings named. */
class AutoencoderTrainingTest {
    @TempDir
    Path dir;

    /** Six gradients of different sizes in one class folder. */
    private Path images() throws Exception {
        Path root = dir.resolve("images");
        Files.createDirectories(root.resolve("all"));
        for (int i = 0; i < 6; i++) {
            BufferedImage img = new BufferedImage(18 + i, 16 + 2 * i, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (x * 10 + i * 30) << 16 | (y * 8) << 8 | i * 40);
            ImageIO.write(img, "png", root.resolve("all/img" + i + ".png").toFile());
        }
        return root;
    }

    private static final AutoencoderKL.Config TINY = AutoencoderTraining.architecture(8, List.of(1, 2), 1, null, 4);

    private static final AutoencoderTraining.Options OPTIONS = AutoencoderTraining.Options.defaults().withSize(16).withCrop(8).withSteps(2)
            .withBatch(2).withLr(1e-3).withHeldOut(2).withReportEvery(1).withPsnrEvery(2).withSeed(3);

    @Test
    void twoStepsWriteTheAutoencoderWithItsScale() throws Exception {
        long live = Torch.liveTensors();
        Path images = images(), out = dir.resolve("vae");
        List<AutoencoderTraining.Start> starts = new ArrayList<>();
        List<AutoencoderTraining.Report> reports = new ArrayList<>();
        AutoencoderTraining.Result r = AutoencoderTraining.train(images, TINY, out, OPTIONS, new AutoencoderTraining.Listener() {
            @Override
            public void started(AutoencoderTraining.Start s) {
                starts.add(s);
            }

            @Override
            public void progress(AutoencoderTraining.Report report) {
                reports.add(report);
            }
        });
        assertEquals(live, Torch.liveTensors());
        assertEquals(2, r.steps());
        assertTrue(Double.isFinite(r.heldOutPsnr()) && r.heldOutPsnr() > 0, "PSNR " + r.heldOutPsnr());
        assertTrue(Double.isFinite(r.latentScale()) && r.latentScale() > 0, "scale " + r.latentScale());
        for (Path f : List.of(r.file(), r.configFile(), r.reconstructions())) assertTrue(Files.isRegularFile(f), f.toString());
        assertEquals(out.resolve(AutoencoderTraining.WEIGHTS_FILE), r.file());

        assertEquals(1, starts.size());
        AutoencoderTraining.Start s = starts.getFirst();
        assertEquals(4, s.trainImages());
        assertEquals(2, s.heldOutImages());
        assertEquals(8, s.side());
        assertEquals(2, s.config().normGroups(), "GroupNorm: a group per 4 channels of the stem");
        assertEquals(2, reports.size());
        assertTrue(Double.isNaN(reports.get(0).heldOutPsnr()), "no PSNR at step 1 of psnrEvery 2");
        assertTrue(Double.isFinite(reports.get(1).heldOutPsnr()) && Double.isFinite(reports.get(1).loss()));

        AutoencoderKL.Config back = AutoencoderKL.Config.inferFrom(r.file());
        assertEquals(2, back.normGroups(), "the groups come back from config.json");
        assertEquals(r.latentScale(), back.scalingFactor(), 1e-12, "and the scale");
        assertEquals(2, back.downsampling());
        try (AutoencoderKL vae = AutoencoderKL.load(r.file(), Device.CPU)) {
            assertEquals(r.latentScale(), vae.scalingFactor(), 1e-12);
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void badSettingsAreNamed() throws Exception {
        long live = Torch.liveTensors();
        Path images = images();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AutoencoderTraining.train(images, TINY, dir.resolve("a"), OPTIONS.withHeldOut(6), AutoencoderTraining.Listener.NONE));
        assertTrue(e.getMessage().contains("has 6 images") && e.getMessage().contains("leaves none"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AutoencoderTraining.train(images, TINY, dir.resolve("b"), OPTIONS.withCrop(32), AutoencoderTraining.Listener.NONE));
        assertTrue(e.getMessage().contains("crop 32 must be at most the image size 16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AutoencoderTraining.train(images, TINY, dir.resolve("c"), OPTIONS.withSize(15).withCrop(null), AutoencoderTraining.Listener.NONE));
        assertTrue(e.getMessage().contains("image size 15 is not divisible by 2"), e.getMessage());
        assertEquals(live, Torch.liveTensors());
    }
}
