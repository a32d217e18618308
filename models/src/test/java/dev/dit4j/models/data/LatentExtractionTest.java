package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.VocabularyFixture;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LatentExtraction: shards of scaled latents, resumed by shard, refused over another run's; captions embedded beside them. */
class LatentExtractionTest {
    @TempDir
    Path dir;

    private static final LatentExtraction.Options TINY = LatentExtraction.Options.defaults().withImageSize(16).withShardSize(2).withBatch(2)
            .withWorkers(2).withFlip(LatentExtraction.Flip.NONE);

    /** Five small images of different sizes: three of class "a", two of "b" (or one folder, with captions). */
    private Path images(boolean captioned) throws Exception {
        Path root = dir.resolve(captioned ? "captioned" : "images");
        for (int i = 0; i < 5; i++) {
            BufferedImage img = new BufferedImage(20 + 2 * i, 18, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) img.setRGB(x, y, (x * 12 + i * 40) << 16 | (y * 14) << 8 | i * 50);
            Path f = captioned ? root.resolve("img" + i + ".png") : root.resolve(i < 3 ? "a" : "b").resolve("img" + i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
            if (captioned) Files.writeString(root.resolve("img" + i + ".txt"), i == 1 ? "a red square\na crimson block\nred\n" : "picture " + i + "\n",
                    StandardCharsets.UTF_8);
        }
        return root;
    }

    /** A random f2 autoencoder with 4 latent channels, in the LDM layout. */
    private Path autoencoder() {
        Path file = dir.resolve("vae.safetensors");
        try (AutoencoderKL vae = AutoencoderKL.SD.withChannels(32).withChannelMult(List.of(1, 2)).withNumResBlocks(1).create(Device.CPU, 5)) {
            Safetensors.save(file, vae.stateDict());
        }
        return file;
    }

    /** Records what a run reports. */
    private static final class Heard implements LatentExtraction.Listener {
        final List<Integer> started = new ArrayList<>(), progress = new ArrayList<>();

        @Override
        public void started(int encoded, int total) {
            started.add(encoded);
        }

        @Override
        public void progress(int encoded, int total) {
            progress.add(encoded);
        }
    }

    @Test
    void writesShardsAndAResumedRunSkipsTheCompleteOnes() throws Exception {
        long live = Torch.liveTensors();
        Path images = images(false), vae = autoencoder(), out = dir.resolve("shards");
        LatentExtraction extraction = LatentExtraction.of(images, vae, out, TINY);
        assertEquals(3, extraction.shards());
        assertArrayEquals(new long[] {4, 8, 8}, extraction.latentShape());
        Heard heard = new Heard();
        LatentExtraction.Result first = extraction.run(heard);
        assertEquals(new LatentExtraction.Result(5, 3, 0, out), first);
        assertEquals(List.of(0), heard.started);
        assertEquals(List.of(2, 4, 5), heard.progress);
        try (LatentFiles latents = LatentFiles.open(out, List.of())) {
            assertEquals(5, latents.size());
            assertArrayEquals(new long[] {4, 8, 8}, latents.imageShape());
            assertEquals(0, latents.label(2));
            assertEquals(1, latents.label(3));
        }
        assertEquals("a\nb\n", Files.readString(out.resolve("classes.txt")));
        assertTrue(Files.readString(out.resolve("settings.txt")).contains("flip=none"));

        Path last = out.resolve("00000004.safetensors"), kept = out.resolve("00000000.safetensors");
        byte[] lastBytes = Files.readAllBytes(last);
        long keptAt = Files.getLastModifiedTime(kept).toMillis();
        Files.delete(last);
        Heard again = new Heard();
        assertEquals(new LatentExtraction.Result(5, 3, 4, out), LatentExtraction.of(images, vae, out, TINY).run(again));
        assertEquals(List.of(4), again.started, "the two complete shards are found");
        assertEquals(List.of(5), again.progress, "only the missing shard is encoded");
        assertArrayEquals(lastBytes, Files.readAllBytes(last), "made again, the same");
        assertEquals(keptAt, Files.getLastModifiedTime(kept).toMillis(), "a complete shard is not rewritten");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LatentExtraction.of(images, vae, out, TINY.withFlip(LatentExtraction.Flip.BOTH)).run(LatentExtraction.Listener.NONE));
        assertTrue(e.getMessage().contains("flip none there, both now"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LatentExtraction.of(images, vae, out, TINY.withImageSize(15)));
        assertTrue(e.getMessage().contains("not divisible by 2"), e.getMessage());
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void captionsAreEmbeddedBesideTheLatents() throws Exception {
        long live = Torch.liveTensors();
        Path images = images(true), vae = autoencoder(), text = dir.resolve("text.safetensors"), out = dir.resolve("captioned-shards");
        ClipTextConfig tiny = ClipTextConfig.OPENCLIP_VIT_H_14.withContextLength(8).withWidth(32).withLayers(1).withHeads(1).withMlpWidth(64)
                .withProjectionDim(0);
        try (TensorScope s = TensorScope.open(); ClipTextEncoder e = tiny.create(Device.CPU, 3)) {
            Safetensors.save(text, e.stateDict(), Map.of("heads", "1"));
        }
        LatentExtraction extraction = LatentExtraction.captioned(images, vae, new LatentExtraction.TextEncoder(text, VocabularyFixture.path(), null), out,
                TINY.withShardSize(3));
        assertEquals(7, extraction.captionCount());
        assertEquals(8, extraction.captionTokens());
        assertEquals(32, extraction.textEncoder().width());
        assertEquals(2, extraction.run(LatentExtraction.Listener.NONE).shards());
        try (LatentFiles latents = LatentFiles.open(out, List.of())) {
            assertTrue(latents.captioned());
            assertArrayEquals(new long[] {8, 32}, latents.captionShape());
            assertEquals(3, latents.captionCount(1));
            assertEquals(text.toAbsolutePath().normalize().toString(), latents.metadata().get("text_encoder"));
        }
        assertFalse(Files.exists(out.resolve("classes.txt")));
        assertEquals(live, Torch.liveTensors());
    }
}
