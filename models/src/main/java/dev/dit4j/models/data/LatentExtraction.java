package dev.dit4j.models.data;

import dev.dit4j.models.pipeline.SampleRequest;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTextWeights;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.models.vae.DiagonalGaussian;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.AtomicFiles;
import dev.dit4j.nn.io.Safetensors;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Encodes images into latent shards that latent-space training reads ({@link LatentFiles}:
 * 'latents' already multiplied by the autoencoder's scale, 'labels'): each image given ADM's
 * center crop at {@link Options#imageSize}, decoded on several threads while the previous batch
 * is encoded, its latent the posterior mean or a sample of it. Flips as the authors store them:
 * fast-DiT's extract_features.py draws one random horizontal flip per image, once, and stores
 * that latent ({@link Flip#RANDOM}); U-ViT's extract_imagenet_feature.py stores the image and its
 * mirror as two samples ({@link Flip#BOTH}). Shards are written atomically and numbered by their
 * first image ({@code NNNNNNNN.safetensors}), and each draws from its own generator
 * ({@link SampleRequest#batchSeed}), so an interrupted run resumes at the first missing shard and
 * makes it as the uninterrupted run would have; {@code settings.txt} ({@link RunSettings}) refuses
 * to resume with other settings. An ImageFolder's class names go to {@code classes.txt}.
 *
 * <p>Captioned ({@link #captioned}: text-to-image, as MicroDiT's and U-ViT's authors precompute
 * their data): the images come from a {@link CaptionedImages} source (images with same-stem .txt
 * captions, or a JSONL/CSV manifest), and each shard also holds every caption's hidden states from
 * a CLIP text encoder, float16, and the empty caption's ({@link LatentFiles.Captions}).
 *
 * <pre>{@code
 * LatentExtraction x = LatentExtraction.of(images, vaeFile, out, LatentExtraction.Options.defaults().withImageSize(256));
 * LatentExtraction.Result r = x.run(LatentExtraction.Listener.NONE);
 * }</pre>
 */
public final class LatentExtraction {
    /** How images are flipped before encoding. */
    public enum Flip {
        /** As they are. */
        NONE,
        /** fast-DiT's: each image mirrored or not, drawn once from the seed and its index. */
        RANDOM,
        /** U-ViT's: each image, then its mirror. */
        BOTH;

        /** none, random or both. */
        public static Flip parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "': expected random, both or none");
            }
        }

        /** The lower-case name, as {@link #parse} reads it. */
        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Images cropped to {@code imageSize} px, flipped as {@code flip} says, stored as a sample of
     * the posterior ({@code sampleLatents}, fast-DiT) or its mean, times {@code scale} (null: the
     * autoencoder's own); {@code shardSize} images a shard, {@code batch} images (and captions) a
     * forward pass, decoded by {@code workers} threads; {@code seed} draws the flips and samples.
     */
    @RecordBuilder
    public record Options(int imageSize, Flip flip, boolean sampleLatents, Double scale, int shardSize, int batch, int workers, long seed,
                          Device device) implements LatentExtractionOptionsBuilder.With {
        public Options {
            if (imageSize < 1) throw new IllegalArgumentException("image size must be positive, got " + imageSize);
            Objects.requireNonNull(flip, "flip");
            if (scale != null && !(scale > 0)) throw new IllegalArgumentException("latent scale must be positive, got " + scale);
            if (shardSize < 1 || batch < 1 || workers < 1) {
                throw new IllegalArgumentException("shard size, batch and workers must be positive, got " + shardSize + ", " + batch + ", " + workers);
            }
            Objects.requireNonNull(device, "device");
        }

        /** 256 px, random flips, posterior means at the autoencoder's scale, 1024 images a shard, batches of 32, a thread per processor, seed 0, the CPU. */
        public static Options defaults() {
            return new Options(256, Flip.RANDOM, false, null, 1024, 32, Runtime.getRuntime().availableProcessors(), 0, Device.CPU);
        }
    }

    /**
     * The CLIP text encoder that embeds captions: its weights (transformers' or open_clip's
     * layout), its BPE vocabulary file, and its preset (null: by the weights' layout,
     * {@link ClipTextConfig#OPENCLIP_VIT_H_14} or {@link ClipTextConfig#CLIP_VIT_L_14}), sized as
     * the weights are.
     */
    public record TextEncoder(Path weights, Path vocabulary, ClipTextConfig preset) {
        public TextEncoder {
            Objects.requireNonNull(weights, "text encoder weights");
            Objects.requireNonNull(vocabulary, "vocabulary file");
        }
    }

    /** Hears about a run: the images already encoded when it starts (a resumed run's), then after each shard. */
    public interface Listener {
        Listener NONE = new Listener() {};

        default void started(int encoded, int total) {}

        default void progress(int encoded, int total) {}
    }

    /** How a run went: the images and shards in all, the images found encoded by an earlier run, the folder. */
    public record Result(int images, int shards, int resumedImages, Path dir) {}

    private final Path images, autoencoderFile, out;
    private final Options options;
    private final TextEncoder text;
    private final Dataset data;
    private final AutoencoderKL.Config config;
    private final ClipTextConfig textConfig;

    private LatentExtraction(Path images, Path autoencoderFile, TextEncoder text, Path out, Options options) {
        this.images = images;
        this.autoencoderFile = autoencoderFile;
        this.text = text;
        this.out = out;
        this.options = options;
        this.data = text != null ? CaptionedImages.open(images, options.imageSize()) : ImageFolder.open(images, options.imageSize());
        this.textConfig = text != null ? textConfig(text) : null;
        AutoencoderKL.Config c = AutoencoderKL.Config.inferFrom(autoencoderFile);
        if (options.scale() != null) c = c.withScalingFactor(options.scale());
        if (c.inChannels() != 3) throw new IllegalArgumentException("autoencoder " + autoencoderFile + " encodes " + c.inChannels() + "-channel images, not RGB");
        if (options.imageSize() % c.downsampling() != 0) {
            throw new IllegalArgumentException("image size " + options.imageSize() + " is not divisible by " + c.downsampling() + ", the autoencoder's downsampling");
        }
        this.config = c;
    }

    /** The images of an ImageFolder ({@code images}: one subfolder of PNG/JPEG files per class), encoded by the autoencoder in {@code autoencoder} into {@code out}. */
    public static LatentExtraction of(Path images, Path autoencoder, Path out, Options options) {
        return new LatentExtraction(images, autoencoder, null, out, options);
    }

    /** Captioned images ({@link CaptionedImages}), their captions embedded by {@code text} beside their latents. */
    public static LatentExtraction captioned(Path images, Path autoencoder, TextEncoder text, Path out, Options options) {
        return new LatentExtraction(images, autoencoder, Objects.requireNonNull(text, "text encoder"), out, options);
    }

    /** The images, in the order they are numbered. */
    public Dataset data() {
        return data;
    }

    /** The captions of the images in all (0 without captions). */
    public int captionCount() {
        return data instanceof CaptionedImages c ? c.captionCount() : 0;
    }

    /** The autoencoder's architecture and the scale the latents are stored at. */
    public AutoencoderKL.Config autoencoder() {
        return config;
    }

    /** The text encoder's configuration, or null without captions. */
    public ClipTextConfig textEncoder() {
        return textConfig;
    }

    /** The tokens of each caption embedding (0 without captions). */
    public int captionTokens() {
        return textConfig == null ? 0 : Math.min(ClipTokenizer.CONTEXT_LENGTH, textConfig.contextLength());
    }

    /** Each latent's shape [C, H, W]. */
    public long[] latentShape() {
        int side = options.imageSize() / config.downsampling();
        return new long[] {config.embedDim(), side, side};
    }

    public int shards() {
        return (data.size() + options.shardSize() - 1) / options.shardSize();
    }

    public Path dir() {
        return out;
    }

    /** Shard {@code s}'s file, named by its first image. */
    public Path shard(int s) {
        return out.resolve(String.format("%08d.safetensors", s * options.shardSize()));
    }

    /** What the shards depend on; the image and class counts stand for the folder's listing, which numbers the images. */
    public Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("images", images.toAbsolutePath().normalize() + " (" + data.size() + " images, " + data.classes().size() + " classes)");
        if (text != null) {
            s.put("captions", Integer.toString(captionCount()));
            s.put("text-encoder", text.weights().toAbsolutePath().normalize() + " (" + textConfig.name() + ", width " + textConfig.width() + ")");
            s.put("vocab", text.vocabulary().toAbsolutePath().normalize().toString());
        }
        s.put("vae", autoencoderFile.toAbsolutePath().normalize().toString());
        s.put("vae-scale", Double.toString(config.scalingFactor()));
        s.put("latent", options.sampleLatents() ? "sample" : "mean");
        s.put("image-size", Integer.toString(options.imageSize()));
        s.put("flip", options.flip().flag());
        s.put("shard-size", Integer.toString(options.shardSize()));
        s.put("seed", Long.toString(options.seed()));
        return s;
    }

    /**
     * Encodes every shard not yet complete in the folder; a folder that holds another run's shards
     * (other {@link #settings}) is refused. Every tensor it makes is freed when it returns.
     */
    public Result run(Listener listener) throws InterruptedException {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + out, e);
        }
        RunSettings.check(out.resolve("settings.txt"), settings());
        if (text == null) writeClasses(out.resolve("classes.txt"), data.classes());
        int total = data.size(), shards = shards(), done = 0;
        Device dev = options.device();
        try (AutoencoderKL autoencoder = config.load(autoencoderFile, DType.FLOAT32, dev);
             ExecutorService pool = Executors.newFixedThreadPool(options.workers());
             CaptionEmbedder embedder = text != null ? new CaptionEmbedder(dev) : null) {
            autoencoder.eval();
            List<Integer> todo = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                if (complete(s)) done += shardLength(s);
                else todo.add(s);
            }
            int resumed = done;
            listener.started(done, total);
            for (int s : todo) {
                encodeShard(s, autoencoder, pool, embedder);
                done += shardLength(s);
                listener.progress(done, total);
            }
            return new Result(total, shards, resumed, out);
        }
    }

    private int shardLength(int s) {
        return Math.min(options.shardSize(), data.size() - s * options.shardSize());
    }

    private int perImage() {
        return options.flip() == Flip.BOTH ? 2 : 1;
    }

    private boolean complete(int s) {
        Path f = shard(s);
        if (!Files.exists(f)) return false;
        try (var source = Safetensors.index(f)) {
            long[] shape = source.shape("latents");
            return shape != null && shape[0] == (long) shardLength(s) * perImage() && (text == null || source.shape(LatentFiles.CAPTIONS) != null);
        }
    }

    /** One shard: its images decoded on the pool one batch ahead of the encoder, encoded batch by batch, written at once. */
    private void encodeShard(int s, AutoencoderKL autoencoder, ExecutorService pool, CaptionEmbedder embedder) throws InterruptedException {
        int first = s * options.shardSize(), length = shardLength(s), batch = options.batch(), size = options.imageSize();
        Device dev = options.device();
        try (TensorScope scope = TensorScope.open(); var noGrad = Autograd.noGrad();
             Generator gen = Generator.create(SampleRequest.batchSeed(options.seed(), s), dev)) {
            List<Tensor> latents = new ArrayList<>();
            List<Tensor> labels = new ArrayList<>();
            Pending next = decode(pool, first, Math.min(batch, length));
            for (int start = 0; start < length; start += batch) {
                int n = Math.min(batch, length - start);
                float[] pixels = await(next);
                if (start + n < length) next = decode(pool, first + start + n, Math.min(batch, length - start - n));
                try (TensorScope b = TensorScope.open()) {
                    Tensor x = Tensor.of(pixels, n, 3, size, size).to(dev);
                    long[] y = new long[n];
                    for (int i = 0; i < n; i++) y[i] = data.label(first + start + i);
                    Tensor ys = Tensor.of(y, n);
                    if (options.flip() == Flip.RANDOM) x = flipSome(x, first + start);
                    if (options.flip() == Flip.BOTH) { // image i, then its mirror
                        x = Tensor.stack(List.of(x, x.flip(3)), 1).reshape(2L * n, 3, size, size);
                        ys = Tensor.stack(List.of(ys, ys), 1).reshape(2L * n);
                    }
                    try (DiagonalGaussian posterior = autoencoder.encode(x)) {
                        Tensor z = (options.sampleLatents() ? posterior.sample(gen) : posterior.mean()).mul(autoencoder.scalingFactor());
                        latents.add(b.keep(z.to(Device.CPU, DType.FLOAT32)));
                        labels.add(b.keep(ys));
                    }
                }
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("first_image", Integer.toString(first));
            meta.put("images", Integer.toString(length));
            meta.put("flip", options.flip().flag());
            if (embedder == null) {
                LatentFiles.write(shard(s), Tensor.cat(latents, 0), Tensor.cat(labels, 0), meta);
            } else {
                meta.put("text_encoder", text.weights().toAbsolutePath().normalize().toString());
                meta.put("text_width", Integer.toString(textConfig.width()));
                LatentFiles.write(shard(s), Tensor.cat(latents, 0), Tensor.cat(labels, 0), embedder.shard((CaptionedImages) data, first, length), meta);
            }
        }
    }

    /**
     * fast-DiT's RandomHorizontalFlip, drawn once per image: image i is mirrored when bit 0 of
     * a hash of (seed, i) is set, so a resumed run flips the same images.
     */
    private Tensor flipSome(Tensor x, int firstIndex) {
        int n = (int) x.size(0);
        boolean[] mirror = new boolean[n];
        for (int i = 0; i < n; i++) mirror[i] = (mix(options.seed() ^ (firstIndex + i) * 0x9E3779B97F4A7C15L) & 1) == 1;
        Tensor mask = Tensor.of(mirror, n, 1, 1, 1).to(x.device());
        return Tensor.where(mask, x.flip(3), x);
    }

    /** SplitMix64's finaliser: well-mixed bits from any 64-bit input. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A batch being decoded: its pixels [n, 3, S, S], complete once every part is. */
    private record Pending(float[] pixels, List<Future<?>> parts) {}

    /** Starts decoding images [first, first + n) on the pool, one task per image. */
    private Pending decode(ExecutorService pool, int first, int n) {
        int elements = 3 * options.imageSize() * options.imageSize();
        float[] pixels = new float[n * elements];
        List<Future<?>> parts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = first + i, offset = i * elements;
            parts.add(pool.submit(() -> {
                float[] chw = new float[elements];
                data.readImage(index, chw);
                System.arraycopy(chw, 0, pixels, offset, elements);
            }));
        }
        return new Pending(pixels, parts);
    }

    /** The batch's pixels once decoded; an image that could not be decoded is reported by name (the rest are cancelled). */
    private static float[] await(Pending pending) throws InterruptedException {
        try {
            for (Future<?> p : pending.parts()) p.get();
            return pending.pixels();
        } catch (ExecutionException e) {
            pending.parts().forEach(p -> p.cancel(false));
            if (e.getCause() instanceof RuntimeException r) throw r; // ImageFolder names the file
            throw new IllegalStateException("decoding failed: " + e.getCause(), e.getCause());
        }
    }

    /** The preset's configuration, else the preset of the weights' layout, sized as the weights are. */
    private static ClipTextConfig textConfig(TextEncoder text) {
        if (text.preset() != null) return ClipTextWeights.configFor(text.preset(), text.weights());
        ClipTextConfig cfg = ClipTextWeights.configFor(ClipTextConfig.OPENCLIP_VIT_H_14, text.weights());
        return cfg.layout() == ClipTextConfig.Layout.TRANSFORMERS ? ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, text.weights()) : cfg;
    }

    /** The text encoder and its tokenizer: every caption of a shard's images to hidden states [M, T, D], float16 on the CPU. */
    private final class CaptionEmbedder implements AutoCloseable {
        private final ClipTextEncoder encoder;
        private final ClipTokenizer tokenizer;
        private final Tensor empty;

        CaptionEmbedder(Device dev) {
            tokenizer = ClipTokenizer.open(text.vocabulary()).withContextLength(captionTokens());
            encoder = textConfig.load(text.weights(), DType.FLOAT32, dev);
            try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
                encoder.eval();
                empty = s.keep(encoder.encode(tokenizer, List.of("")).to(Device.CPU, DType.FLOAT16));
            } catch (RuntimeException e) {
                encoder.close();
                throw e;
            }
        }

        /** The captions of images [first, first + n): their embeddings in image order, each image's count, the empty caption's. */
        LatentFiles.Captions shard(CaptionedImages captioned, int first, int n) {
            List<String> all = new ArrayList<>();
            long[] counts = new long[n];
            for (int i = 0; i < n; i++) {
                List<String> c = captioned.captions(first + i);
                counts[i] = c.size();
                all.addAll(c);
            }
            try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
                List<Tensor> parts = new ArrayList<>();
                for (int from = 0; from < all.size(); from += options.batch()) {
                    List<String> chunk = all.subList(from, Math.min(all.size(), from + options.batch()));
                    parts.add(encoder.encode(tokenizer, chunk).to(Device.CPU, DType.FLOAT16));
                }
                Tensor embeddings = s.keep(Tensor.cat(parts, 0));
                return new LatentFiles.Captions(embeddings, s.keep(Tensor.of(counts, n)), empty);
            }
        }

        @Override
        public void close() {
            encoder.close();
            empty.close();
        }
    }

    private static void writeClasses(Path file, List<String> classes) {
        byte[] bytes = (String.join("\n", classes) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
    }
}
