package dev.dit4j.examples;

import dev.dit4j.models.data.Images;
import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.data.RunSettings;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.AtomicFiles;
import dev.dit4j.nn.io.Npz;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/**
 * The output folder of {@code sample}: {@code images/NNNNNN.png} (one per image, numbered as
 * DiT's sample_ddp.py numbers them), {@code grid.png}, {@code latents/NNNNNN.safetensors} (one
 * shard per batch, when latents are wanted), and {@code settings.txt}, what decides the pictures,
 * against which a resumed run is checked. Every file is written atomically, so a file that exists
 * is complete.
 */
final class SampleFiles {
    private final Path dir;

    SampleFiles(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    Path imageDir() {
        return dir.resolve("images");
    }

    Path image(int index) {
        return imageDir().resolve(String.format("%06d.png", index));
    }

    Path grid() {
        return dir.resolve("grid.png");
    }

    private Path shard(int batch) {
        return dir.resolve("latents").resolve(String.format("%06d.safetensors", batch));
    }

    /** Writes the settings on a first run; refuses to continue a run made with other settings ({@link RunSettings}). */
    void checkSettings(Map<String, String> settings) {
        RunSettings.check(dir.resolve("settings.txt"), settings);
    }

    /** True when batch b's shard exists with {@code size} latents. */
    boolean hasShard(int batch, int size) {
        Path f = shard(batch);
        if (!Files.exists(f)) return false;
        try (var source = Safetensors.index(f)) {
            long[] shape = source.shape("latents");
            return shape != null && shape[0] == size;
        }
    }

    void writeShard(int batch, Tensor latents, Tensor labels, Map<String, String> metadata) {
        LatentFiles.write(shard(batch), latents, labels, metadata);
    }

    /** Images [n, 3, H, W] in [-1, 1] as PNGs numbered from {@code first}; those that exist are kept. */
    void writeImages(int first, Tensor images) {
        for (int i = 0; i < images.size(0); i++) {
            Path file = image(first + i);
            if (Files.exists(file)) continue;
            try (TensorScope s = TensorScope.open()) {
                BufferedImage png = Images.grid(images.narrow(0, i, 1), 1, 0);
                AtomicFiles.write(file, ch -> {
                    if (!ImageIO.write(png, "png", Channels.newOutputStream(ch))) throw new IOException("no PNG writer");
                });
            }
        }
    }

    /** The first {@code n} images as a grid, read back from their PNGs (a resumed run may not have sampled them). */
    void writeGrid(int n) {
        try (Tensor images = readImages(n)) {
            BufferedImage grid = Images.grid(images, (int) Math.ceil(Math.sqrt(n)), Images.DEFAULT_PADDING);
            AtomicFiles.write(grid(), ch -> {
                if (!ImageIO.write(grid, "png", Channels.newOutputStream(ch))) throw new IOException("no PNG writer");
            });
        }
    }

    /** The first {@code n} images [n, 3, H, W] in [-1, 1], read back from their PNGs. */
    Tensor readImages(int n) {
        List<int[]> pixels = new ArrayList<>();
        int w = 0, h = 0;
        for (int i = 0; i < n; i++) {
            BufferedImage img = read(image(i));
            w = img.getWidth();
            h = img.getHeight();
            pixels.add(img.getRGB(0, 0, w, h, null, 0, w));
        }
        float[] chw = new float[n * 3 * w * h];
        int plane = w * h;
        for (int i = 0; i < n; i++) {
            int[] argb = pixels.get(i);
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < 3; c++) chw[(i * 3 + c) * plane + p] = Images.toSigned((argb[p] >> (16 - 8 * c)) & 0xff);
            }
        }
        return TensorScope.release(Tensor.of(chw, n, 3, h, w));
    }

    /** The {@code n} images as uint8 arr_0 [n, H, W, 3], read back from their PNGs one at a time. */
    void writeNpz(Path file, int n) {
        BufferedImage firstImage = read(image(0));
        int w = firstImage.getWidth(), h = firstImage.getHeight();
        Npz.write(file, List.of(Npz.uint8("arr_0", new long[] {n, h, w, 3}, out -> {
            byte[] hwc = new byte[h * w * 3];
            for (int i = 0; i < n; i++) {
                BufferedImage img = read(image(i));
                if (img.getWidth() != w || img.getHeight() != h) {
                    throw new IOException(image(i) + " is " + img.getWidth() + "x" + img.getHeight() + ", but " + image(0) + " is " + w + "x" + h);
                }
                int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
                for (int p = 0; p < argb.length; p++) {
                    hwc[3 * p] = (byte) (argb[p] >> 16);
                    hwc[3 * p + 1] = (byte) (argb[p] >> 8);
                    hwc[3 * p + 2] = (byte) argb[p];
                }
                out.write(hwc);
            }
        })));
    }

    /** The batches' shards joined into one latent file of the first {@code n} latents, in image order. */
    void joinLatents(Path file, int batches, int n) {
        List<Safetensors.Contents> shards = new ArrayList<>();
        try {
            List<Tensor> latents = new ArrayList<>(), labels = new ArrayList<>();
            for (int b = 0; b < batches; b++) {
                Safetensors.Contents shard = Safetensors.map(shard(b)); // streamed to the file, never joined in memory
                shards.add(shard);
                latents.add(shard.tensors().get("latents"));
                labels.add(shard.tensors().get("labels"));
            }
            Safetensors.saveConcatenated(file, new TreeMap<>(Map.of("latents", latents, "labels", labels)), Map.of("count", Integer.toString(n)));
        } finally {
            shards.forEach(Safetensors.Contents::close);
        }
    }

    private static BufferedImage read(Path png) {
        try {
            BufferedImage img = ImageIO.read(png.toFile());
            if (img == null) throw new IOException("not a PNG");
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + png + ": " + e.getMessage(), e);
        }
    }
}
