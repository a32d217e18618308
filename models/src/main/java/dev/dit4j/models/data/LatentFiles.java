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
 *
 * <p>Captioned shards (text-to-image, as MicroDiT and U-ViT precompute them) also hold the caption
 * embeddings of a text encoder: {@code captions} [M, T, D] (float16), every caption of the shard's
 * images one after another, {@code caption_counts} int64 [I] (image i has that many, at least one;
 * I = N, or N / 2 when each image is stored with its mirror, latents 2i and 2i + 1), and
 * {@code empty_caption} [1, T, D], the empty caption's embedding (U-ViT's null condition; small, so
 * each shard carries it and any shard stands alone). {@link #captions} draws one caption per
 * sample per epoch.
 */
public final class LatentFiles implements Dataset, AutoCloseable {
    private final List<Shard> shards = new ArrayList<>();
    private final int[] firstIndex;
    private final long[] shape;
    private final int elements;
    private final List<String> classes;
    private final int size;

    /** Tensor names of a captioned shard. */
    public static final String CAPTIONS = "captions", CAPTION_COUNTS = "caption_counts", EMPTY_CAPTION = "empty_caption";

    /**
     * The caption embeddings of a shard's images: {@code embeddings} [M, T, D], {@code counts}
     * int64 [I] summing to M, {@code emptyCaption} [1, T, D].
     */
    public record Captions(Tensor embeddings, Tensor counts, Tensor emptyCaption) {}

    /** A shard's captions as read: image i's are rows [start[i], start[i + 1]); {@code perImage} latents per image. */
    private record CaptionRows(Tensor embeddings, long[] start, int perImage, Tensor emptyCaption) {}

    private record Shard(Path file, Safetensors.Contents contents, Tensor latents, MemorySegment floats, long[] labels, CaptionRows captions) {}

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
                if (i > 0 && (shard.captions() == null) != (shards.get(0).captions() == null))
                    throw new IllegalArgumentException("latent file " + files.get(i) + (shard.captions() == null ? " has no" : " has")
                            + " caption embeddings but " + files.get(0) + (shard.captions() == null ? " has" : " has none") + ": do not mix captioned and plain shards");
                if (i > 0 && shard.captions() != null && !Arrays.equals(captionShape(shard), captionShape(shards.get(0))))
                    throw new IllegalArgumentException("latent file " + files.get(i) + " holds caption embeddings of shape [T, D] = "
                            + Arrays.toString(captionShape(shard)) + " but " + files.get(0) + " holds " + Arrays.toString(captionShape(shards.get(0))));
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

    /** Writes one captioned shard atomically: latents, labels and their images' caption embeddings. */
    public static void write(Path file, Tensor latents, Tensor labels, Captions captions, Map<String, String> metadata) {
        check(file, latents, labels);
        checkCaptions(file, latents, captions.embeddings(), captions.counts(), captions.emptyCaption());
        Safetensors.save(file, Map.of("latents", latents, "labels", labels, CAPTIONS, captions.embeddings(), CAPTION_COUNTS, captions.counts(),
                EMPTY_CAPTION, captions.emptyCaption()), metadata);
    }

    private static Shard open(Path file) {
        Safetensors.Contents c = Safetensors.map(file); // zero-copy: see the hazard above
        try {
            Tensor latents = c.tensors().get("latents"), labels = c.tensors().get("labels");
            check(file, latents, labels);
            MemorySegment floats = latents.dtype() == DType.FLOAT32 && latents.isContiguous() ? latents.asSegment() : null;
            return new Shard(file, c, latents, floats, labels.toLongArray(), captionRows(file, c.tensors(), latents));
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

    /** A shard's caption rows, or null for a shard without captions; a partial set of caption tensors is refused by name. */
    private static CaptionRows captionRows(Path file, Map<String, Tensor> t, Tensor latents) {
        Tensor embeddings = t.get(CAPTIONS), counts = t.get(CAPTION_COUNTS), empty = t.get(EMPTY_CAPTION);
        if (embeddings == null && counts == null && empty == null) return null;
        checkCaptions(file, latents, embeddings, counts, empty);
        long[] n = counts.toLongArray(), start = new long[n.length + 1];
        for (int i = 0; i < n.length; i++) start[i + 1] = start[i] + n[i];
        return new CaptionRows(embeddings, start, Math.toIntExact(latents.size(0) / n.length), empty);
    }

    private static void checkCaptions(Path file, Tensor latents, Tensor embeddings, Tensor counts, Tensor empty) {
        if (embeddings == null || counts == null || empty == null)
            throw new IllegalArgumentException("latent file " + file + " has caption embeddings but not all of '" + CAPTIONS + "' [M, T, D], '"
                    + CAPTION_COUNTS + "' [images] and '" + EMPTY_CAPTION + "' [1, T, D]");
        if (embeddings.dim() != 3 || !embeddings.dtype().isFloatingPoint())
            throw new IllegalArgumentException("latent file " + file + ": '" + CAPTIONS + "' must be floating-point [M, T, D], got "
                    + embeddings.dtype() + " " + Arrays.toString(embeddings.shape()));
        long images = counts.dim() == 1 ? counts.size(0) : 0;
        if (counts.dtype() != DType.INT64 || images == 0 || latents.size(0) % images != 0 || latents.size(0) / images > 2)
            throw new IllegalArgumentException("latent file " + file + ": '" + CAPTION_COUNTS + "' must be int64 [images] with " + latents.size(0)
                    + " or " + latents.size(0) / 2 + " images (one per latent, or per latent and its mirror), got "
                    + counts.dtype() + " " + Arrays.toString(counts.shape()));
        long[] n = counts.toLongArray();
        long total = 0;
        for (int i = 0; i < n.length; i++) {
            if (n[i] < 1) throw new IllegalArgumentException("latent file " + file + ": image " + i + " has " + n[i] + " captions; each needs one at least");
            total += n[i];
        }
        if (total != embeddings.size(0))
            throw new IllegalArgumentException("latent file " + file + ": '" + CAPTION_COUNTS + "' sum to " + total + " captions but '" + CAPTIONS
                    + "' holds " + embeddings.size(0));
        if (empty.dim() != 3 || empty.size(0) != 1 || empty.size(1) != embeddings.size(1) || empty.size(2) != embeddings.size(2))
            throw new IllegalArgumentException("latent file " + file + ": '" + EMPTY_CAPTION + "' must be [1, " + embeddings.size(1) + ", "
                    + embeddings.size(2) + "], got " + Arrays.toString(empty.shape()));
    }

    private static long[] captionShape(Shard shard) {
        return new long[] {shard.captions().embeddings().size(1), shard.captions().embeddings().size(2)};
    }

    /** True when the shards hold caption embeddings. */
    public boolean captioned() {
        return shards.get(0).captions() != null;
    }

    /** [T, D]: the caption embeddings' tokens and width. */
    public long[] captionShape() {
        requireCaptions();
        return captionShape(shards.get(0));
    }

    /** The first shard's metadata (extract-latents records its settings there, e.g. the text encoder). */
    public Map<String, String> metadata() {
        return shards.get(0).contents().metadata();
    }

    /** How many captions sample {@code index} has. */
    public int captionCount(int index) {
        requireCaptions();
        int s = shardOf(index);
        CaptionRows c = shards.get(s).captions();
        int image = (index - firstIndex[s]) / c.perImage();
        return Math.toIntExact(c.start()[image + 1] - c.start()[image]);
    }

    /**
     * One caption embedding per sample of {@code indices}, [n, T, D] on the CPU in the stored dtype
     * (float16 from extract-latents: half the bytes to move; convert on the device): of each
     * sample's captions the one {@link CaptionedImages#draw} picks for (seed, epoch, sample), so each
     * epoch may show an image with another of its captions, and a run repeats.
     */
    public Tensor captions(long[] indices, long epoch, long seed) {
        requireCaptions();
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> rows = new ArrayList<>(indices.length);
            for (long index : indices) {
                int i = Math.toIntExact(index), s = shardOf(i);
                CaptionRows c = shards.get(s).captions();
                int image = (i - firstIndex[s]) / c.perImage();
                int count = Math.toIntExact(c.start()[image + 1] - c.start()[image]);
                rows.add(c.embeddings().narrow(0, c.start()[image] + CaptionedImages.draw(count, i, epoch, seed), 1));
            }
            return scope.keep(Tensor.cat(rows, 0));
        }
    }

    /** The empty caption's embedding, float32 [1, T, D] on the CPU (U-ViT's null condition). */
    public Tensor emptyCaption() {
        requireCaptions();
        return shards.get(0).captions().emptyCaption().to(DType.FLOAT32);
    }

    private void requireCaptions() {
        if (!captioned()) throw new IllegalStateException("latent files " + shards.get(0).file() + "... hold no caption embeddings (extract them with --captions)");
    }

    /**
     * This dataset with each sample's index as its label, so that a batch's labels name its
     * samples (to look their captions up with {@link #captions}).
     */
    public Dataset byIndex() {
        LatentFiles self = this;
        return new Dataset() {
            @Override
            public int size() {
                return self.size();
            }

            @Override
            public long[] imageShape() {
                return self.imageShape();
            }

            @Override
            public List<String> classes() {
                return List.of();
            }

            @Override
            public long label(int index) {
                if (index < 0 || index >= size) throw new IndexOutOfBoundsException("latent " + index + " of " + size);
                return index;
            }

            @Override
            public void readImage(int index, float[] chw) {
                self.readImage(index, chw);
            }
        };
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
