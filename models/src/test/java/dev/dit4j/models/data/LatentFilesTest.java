package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatentFilesTest {
    @TempDir
    Path dir;

    /** Latent i holds i + k / 8 at element k: exact in bfloat16 for the values used here. */
    private static Tensor latents(int first, int n, DType dtype) {
        float[] v = new float[n * 2 * 2 * 2];
        for (int i = 0; i < n; i++) for (int k = 0; k < 8; k++) v[i * 8 + k] = first + i + k / 8f;
        return Tensor.of(v, n, 2, 2, 2).to(dtype);
    }

    @Test
    void shardsOfAnyFloatTypeReadAsOneDataset() throws Exception {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Path folder = dir.resolve("latents");
            Files.createDirectories(folder);
            LatentFiles.write(folder.resolve("000.safetensors"), latents(0, 3, DType.FLOAT32), Tensor.of(new long[] {7, 8, 9}, 3), Map.of());
            LatentFiles.write(folder.resolve("001.safetensors"), latents(3, 2, DType.BFLOAT16), Tensor.of(new long[] {1, 2}, 2), Map.of());
            try (LatentFiles data = LatentFiles.open(folder, List.of())) {
                assertEquals(5, data.size());
                assertArrayEquals(new long[] {2, 2, 2}, data.imageShape());
                assertArrayEquals(new long[] {7, 8, 9, 1, 2}, java.util.stream.IntStream.range(0, 5).mapToLong(data::label).toArray());
                float[] chw = new float[8];
                for (int i = 0; i < 5; i++) {
                    data.readImage(i, chw);
                    for (int k = 0; k < 8; k++) assertEquals(i + k / 8f, chw[k], 0, "latent " + i + " element " + k);
                }
                assertThrows(IndexOutOfBoundsException.class, () -> data.readImage(5, chw));
                try (BatchLoader loader = BatchLoader.builder(data, 5).seed(1).build(); BatchLoader.Batch b = loader.next()) {
                    assertArrayEquals(new long[] {5, 2, 2, 2}, b.images().shape());
                    assertEquals(7 + 8 + 9 + 1 + 2, b.labels().sum().item(), "every latent once per epoch");
                }
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void badFilesAreNamed() throws Exception {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Path a = dir.resolve("a.safetensors"), b = dir.resolve("b.safetensors"), c = dir.resolve("c.safetensors");
            dev.dit4j.nn.io.Safetensors.save(a, Map.of("latents", latents(0, 2, DType.FLOAT32)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LatentFiles.open(a, List.of()));
            assertTrue(e.getMessage().contains("a.safetensors") && e.getMessage().contains("labels"), e.getMessage());
            LatentFiles.write(b, latents(0, 2, DType.FLOAT32), Tensor.of(new long[] {0, 1}, 2), Map.of());
            LatentFiles.write(c, Tensor.zeros(new long[] {1, 2, 4, 4}, DType.FLOAT32, dev.dit4j.nn.Device.CPU), Tensor.of(new long[] {0}, 1), Map.of());
            Files.delete(a);
            e = assertThrows(IllegalArgumentException.class, () -> LatentFiles.open(dir, List.of()));
            assertTrue(e.getMessage().contains("c.safetensors") && e.getMessage().contains("[2, 4, 4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> LatentFiles.write(a, latents(0, 2, DType.FLOAT32), Tensor.of(new long[] {0}, 1), Map.of()));
            assertTrue(e.getMessage().contains("labels"), e.getMessage());
        }
        assertEquals(live, Torch.liveTensors());
    }

    /** Caption j of image i is filled with 10 i + j. */
    private static LatentFiles.Captions captions(long... counts) {
        List<Tensor> rows = new java.util.ArrayList<>();
        for (int i = 0; i < counts.length; i++) for (int j = 0; j < counts[i]; j++) rows.add(Tensor.full(10 * i + j, new long[] {1, 3, 4}, DType.FLOAT16, dev.dit4j.nn.Device.CPU));
        return new LatentFiles.Captions(Tensor.cat(rows, 0), Tensor.of(counts, counts.length), Tensor.full(-1, new long[] {1, 3, 4}, DType.FLOAT16, dev.dit4j.nn.Device.CPU));
    }

    @Test
    void captionedShardsDrawOneCaptionPerImageAndEpoch() throws Exception {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Path folder = dir.resolve("captioned");
            Files.createDirectories(folder);
            LatentFiles.write(folder.resolve("0.safetensors"), latents(0, 2, DType.FLOAT32), Tensor.of(new long[] {0, 0}, 2), captions(1, 3), Map.of("text_encoder", "t"));
            // a shard stored with mirrors: latents 0, 1 are its image 0 and its mirror
            LatentFiles.write(folder.resolve("1.safetensors"), latents(2, 2, DType.FLOAT32), Tensor.of(new long[] {0, 0}, 2), captions(2), Map.of());
            try (LatentFiles data = LatentFiles.open(folder, List.of())) {
                assertTrue(data.captioned());
                assertArrayEquals(new long[] {3, 4}, data.captionShape());
                assertEquals("t", data.metadata().get("text_encoder"));
                assertArrayEquals(new int[] {1, 3, 2, 2}, java.util.stream.IntStream.range(0, 4).map(data::captionCount).toArray());
                java.util.Set<Float> image1 = new java.util.TreeSet<>();
                for (long epoch = 0; epoch < 30; epoch++) {
                    float[] c = data.captions(new long[] {0, 1, 2, 3}, epoch, 7).toFloatArray();
                    assertEquals(0, c[0], "image 0 has one caption");
                    image1.add(c[12]);
                    assertTrue(c[24] == 0 || c[24] == 1, "latent 2 is image 0 of the second shard");
                    assertArrayEquals(data.captions(new long[] {1}, epoch, 7).toFloatArray(), java.util.Arrays.copyOfRange(c, 12, 24), "drawn from (seed, epoch, index) alone");
                }
                assertEquals(java.util.Set.of(10f, 11f, 12f), image1, "every caption of image 1 is drawn in some epoch");
                assertEquals(-1, data.emptyCaption().sum().item() / 12, 0);
                Dataset indexed = data.byIndex();
                assertEquals(3, indexed.label(3));
                try (BatchLoader loader = BatchLoader.builder(indexed, 4).seed(1).build(); BatchLoader.Batch b = loader.next()) {
                    assertEquals(6, b.labels().sum().item(), "the labels name the samples: 0 + 1 + 2 + 3");
                }
            }
            LatentFiles.write(folder.resolve("2.safetensors"), latents(4, 1, DType.FLOAT32), Tensor.of(new long[] {0}, 1), Map.of());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LatentFiles.open(folder, List.of()));
            assertTrue(e.getMessage().contains("2.safetensors has no caption embeddings"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> LatentFiles.write(dir.resolve("x.safetensors"), latents(0, 2, DType.FLOAT32), Tensor.of(new long[] {0, 0}, 2), captions(1, 0), Map.of()));
            assertTrue(e.getMessage().contains("image 1 has 0 captions"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> LatentFiles.write(dir.resolve("x.safetensors"), latents(0, 3, DType.FLOAT32), Tensor.of(new long[] {0, 0, 0}, 3), captions(1, 1), Map.of()));
            assertTrue(e.getMessage().contains("caption_counts"), e.getMessage());
            dev.dit4j.nn.io.Safetensors.save(dir.resolve("y.safetensors"), Map.of("latents", latents(0, 1, DType.FLOAT32), "labels", Tensor.of(new long[] {0}, 1),
                    LatentFiles.CAPTIONS, Tensor.zeros(1, 3, 4)));
            e = assertThrows(IllegalArgumentException.class, () -> LatentFiles.open(dir.resolve("y.safetensors"), List.of()));
            assertTrue(e.getMessage().contains("not all of 'captions'"), e.getMessage());
        }
        assertEquals(live, Torch.liveTensors());
    }
}
