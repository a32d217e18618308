package dev.dit4j.models.data;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Pre-extracted latents for latent-space training (what fast-DiT and U-ViT do with ImageNet's
 * VAE features): one safetensors file, or a folder of them (shards, read in name order), each
 * holding {@code latents} [N, C, H, W] (float32, float16 or bfloat16, already multiplied by
 * the VAE's scale factor) and {@code labels} int64 [N]. Files are memory-mapped
 * ({@link Safetensors#map}), not read into memory, since shards may be larger than it; float32
 * samples are copied straight from the mapping. The hazard of mapping: a shard truncated or
 * overwritten in place while it is open kills the JVM with SIGBUS (or changes the samples), so
 * replace shards by renaming ({@link #write} does), never with {@code cp} over an open one.
 */
public final class LatentFiles implements Dataset, AutoCloseable {
    private final List<Shard> shards = new ArrayList<>();
    private final int[] firstIndex;
    private final long[] shape;
    private final int elements;
    private final List<String> classes;
    private final int size;

    private record Shard(Path file, Safetensors.Contents contents, Tensor latents, MemorySegment floats, long[] labels) {}

    private LatentFiles(List<Path> files, List<String> classes) {
        long[] common = null;
        int total = 0;
        firstIndex = new int[files.size()];
        try {
            for (int i = 0; i < files.size(); i++) {
                Shard shard = open(files.get(i));
                shards.add(shard);
                long[] s = shard.latents().shape();
                if (s[0] == 0) throw new IllegalArgumentException("latent file " + files.get(i) + " holds no samples");
                long[] sampleShape = {s[1], s[2], s[3]};
                if (common == null) common = sampleShape;
                else if (!Arrays.equals(common, sampleShape))
                    throw new IllegalArgumentException("latent file " + files.get(i) + " holds samples of shape " + Arrays.toString(sampleShape)
                            + " but " + files.get(0) + " holds " + Arrays.toString(common));
                firstIndex[i] = total;
                total = Math.addExact(total, Math.toIntExact(s[0]));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        if (common == null) throw new IllegalArgumentException("no latent files given");
        this.shape = common;
        this.elements = Math.toIntExact(common[0] * common[1] * common[2]);
        this.size = total;
        this.classes = List.copyOf(classes);
    }

    /** Opens a latent file or a folder of {@code *.safetensors} shards; class names are for display. */
    public static LatentFiles open(Path fileOrFolder, List<String> classes) {
        if (!Files.isDirectory(fileOrFolder)) return new LatentFiles(List.of(fileOrFolder), classes);
        try (Stream<Path> list = Files.list(fileOrFolder)) {
            List<Path> files = list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            if (files.isEmpty()) throw new IllegalArgumentException("no .safetensors latent files in " + fileOrFolder);
            return new LatentFiles(files, classes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list latent files in " + fileOrFolder, e);
        }
    }

    /** Writes one shard atomically: latents [N, C, H, W] (float32/float16/bfloat16) and labels int64 [N]. */
    public static void write(Path file, Tensor latents, Tensor labels, Map<String, String> metadata) {
        check(file, latents, labels);
        Safetensors.save(file, Map.of("latents", latents, "labels", labels), metadata);
    }

    private static Shard open(Path file) {
        Safetensors.Contents c = Safetensors.map(file); // zero-copy: see the hazard above
        try {
            Tensor latents = c.tensors().get("latents"), labels = c.tensors().get("labels");
            check(file, latents, labels);
            MemorySegment floats = latents.dtype() == DType.FLOAT32 && latents.isContiguous() ? latents.asSegment() : null;
            return new Shard(file, c, latents, floats, labels.toLongArray());
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private static void check(Path file, Tensor latents, Tensor labels) {
        if (latents == null || labels == null)
            throw new IllegalArgumentException("latent file " + file + " needs tensors 'latents' [N, C, H, W] and 'labels' [N]");
        if (latents.dim() != 4 || !(latents.dtype() == DType.FLOAT32 || latents.dtype() == DType.FLOAT16 || latents.dtype() == DType.BFLOAT16))
            throw new IllegalArgumentException("latent file " + file + ": 'latents' must be float32/float16/bfloat16 [N, C, H, W], got "
                    + latents.dtype() + " " + Arrays.toString(latents.shape()));
        if (labels.dim() != 1 || labels.size(0) != latents.size(0) || labels.dtype() != DType.INT64)
            throw new IllegalArgumentException("latent file " + file + ": 'labels' must be int64 [" + latents.size(0) + "], got "
                    + labels.dtype() + " " + Arrays.toString(labels.shape()));
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public long[] imageShape() {
        return shape.clone();
    }

    @Override
    public int imageElements() {
        return elements;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    private int shardOf(int index) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException("latent " + index + " of " + size);
        int i = Arrays.binarySearch(firstIndex, index);
        return i >= 0 ? i : -i - 2;
    }

    @Override
    public long label(int index) {
        int s = shardOf(index);
        return shards.get(s).labels()[index - firstIndex[s]];
    }

    @Override
    public void readImage(int index, float[] chw) {
        int s = shardOf(index);
        Shard shard = shards.get(s);
        long local = index - firstIndex[s];
        if (shard.floats() != null) {
            MemorySegment.copy(shard.floats(), ValueLayout.JAVA_FLOAT, local * elements * Float.BYTES, chw, 0, elements);
            return;
        }
        try (TensorScope scope = TensorScope.open()) {
            float[] values = shard.latents().narrow(0, local, 1).to(DType.FLOAT32).toFloatArray();
            System.arraycopy(values, 0, chw, 0, elements);
        }
    }

    @Override
    public void close() {
        shards.forEach(s -> s.contents().close());
        shards.clear();
    }
}
