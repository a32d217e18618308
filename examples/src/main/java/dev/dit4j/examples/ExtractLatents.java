package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.data.CaptionedImages;
import dev.dit4j.models.data.Dataset;
import dev.dit4j.models.data.ImageFolder;
import dev.dit4j.models.data.LatentFiles;
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
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.AtomicFiles;
import dev.dit4j.nn.io.Safetensors;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Encodes an ImageFolder (class subfolders) into latent shards that {@code train-latents} reads
 * ({@link LatentFiles}: 'latents' already multiplied by the autoencoder's scale, 'labels'): each
 * image given ADM's center crop at --image-size, decoded on several threads while the previous
 * batch is encoded, its latent the posterior mean or a sample of it. Flips as the authors store
 * them: fast-DiT's extract_features.py draws one random horizontal flip per image, once, and
 * stores that latent ({@code random}); U-ViT's extract_imagenet_feature.py stores the image and
 * its mirror as two samples ({@code both}). Shards are written atomically and numbered by their
 * first image, so an interrupted run resumes at the first missing shard.
 *
 * <p>With {@code --captions} (text-to-image, as MicroDiT's and U-ViT's authors precompute their
 * data), --images is a folder of images with same-stem .txt captions (one a line: several lines,
 * several captions) or a JSONL/CSV manifest ({@link CaptionedImages}), and each shard also holds
 * every caption's hidden states from a CLIP text encoder, float16, and the empty caption's
 * ({@link LatentFiles}: 'captions', 'caption_counts', 'empty_caption'); train-latents draws one
 * caption per image per epoch.
 */
@Command(name = "extract-latents", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.ExtractLatents",
        description = "Encode an ImageFolder into latent shards (safetensors 'latents' and 'labels'; with --captions, also caption embeddings) for train-latents.")
public final class ExtractLatents implements Callable<Integer> {
    enum Flip { NONE, RANDOM, BOTH }

    @Option(names = "--images", required = true, description = "ImageFolder root: one subfolder of PNG/JPEG files per class"
            + " (with --captions: images with same-stem .txt captions, or a .jsonl/.csv manifest)")
    Path images;

    @Option(names = "--captions", description = "store each image's caption embeddings beside its latent (needs --text-encoder)")
    boolean captions;

    @Option(names = "--text-encoder", description = "the CLIP text encoder for --captions (.safetensors/.pt: transformers' or open_clip's layout)")
    Path textEncoder;

    @Option(names = "--vocab", description = "the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, vocab.json + merges.txt, tokenizer.json) (default: open_clip's)")
    Path vocab;

    @Option(names = "--text-preset", description = "clip-vit-l-14-text or openclip-vit-h-14-text (default: by the weights' layout)")
    String textPreset;

    @Option(names = "--vae", required = true, description = "the autoencoder's weights (diffusers or LDM layout)")
    Path vae;

    @Option(names = "--vae-scale", converter = Numbers.Positive.class, description = "latent scale factor (default: the autoencoder's, 0.18215 for SD's)")
    Double vaeScale;

    @Option(names = "--vae-sample", description = "store a sample of each posterior (fast-DiT) instead of its mean")
    boolean vaeSample;

    @Option(names = "--image-size", converter = Numbers.PositiveInt.class, description = "center-crop side in pixels (default ${DEFAULT-VALUE})")
    int imageSize = 256;

    @Option(names = "--flip", converter = FlipParser.class, description = "random (fast-DiT), both (U-ViT) or none (default random)")
    Flip flip = Flip.RANDOM;

    @Option(names = "--shard-size", converter = Numbers.PositiveInt.class, description = "images per shard (default ${DEFAULT-VALUE})")
    int shardSize = 1024;

    @Option(names = "--workers", converter = Numbers.PositiveInt.class, description = "image decoding threads (default: the processors)")
    Integer workers;

    @Mixin
    BatchOption batchOption = new BatchOption(32);

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Mixin
    OutputDirOption outOption = new OutputDirOption(Path.of("out", "latents-data"));

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path out = outOption.dir();
        OutputPaths.requireFolder(spec, "--out", out);
        OutputPaths.requireDistinct(spec, "--out", out, "--images", images);
        Device dev = deviceOption.deviceForAutoencoder();
        if (captions && textEncoder == null) throw new ParameterException(spec.commandLine(), "--captions needs --text-encoder: the CLIP text encoder to embed them with");
        if (!captions && textEncoder != null) throw new ParameterException(spec.commandLine(), "--text-encoder is for --captions");
        CaptionedImages captioned = captions ? CaptionedImages.open(images, imageSize) : null;
        Dataset data = captions ? captioned : ImageFolder.open(images, imageSize);
        ClipTextConfig textConfig = captions ? textConfig() : null;
        AutoencoderKL.Config config = AutoencoderKL.Config.inferFrom(vae);
        if (vaeScale != null) config = config.withScalingFactor(vaeScale);
        if (config.inChannels() != 3) throw new IllegalArgumentException("autoencoder " + vae + " encodes " + config.inChannels() + "-channel images, not RGB");
        int factor = config.downsampling();
        if (imageSize % factor != 0) {
            throw new ParameterException(spec.commandLine(), "--image-size " + imageSize + " is not divisible by " + factor + ", the autoencoder's downsampling");
        }
        int shards = (data.size() + shardSize - 1) / shardSize;
        Files.createDirectories(out);
        RunSettings.check(out.resolve("settings.txt"), settings(config, data, textConfig));
        if (!captions) writeClasses(out.resolve("classes.txt"), data.classes());
        try (AutoencoderKL autoencoder = config.load(vae, DType.FLOAT32, dev);
             ExecutorService pool = Executors.newFixedThreadPool(workers != null ? workers : Runtime.getRuntime().availableProcessors());
             CaptionEmbedder text = captions ? new CaptionEmbedder(textConfig, dev) : null) {
            autoencoder.eval();
            if (text != null) System.out.printf("captions: %d for %d images, embedded by %s (%d tokens x %d)%n", captioned.captionCount(), data.size(),
                    textEncoder, text.tokens(), textConfig.width());
            System.out.printf("%d images in %d classes from %s at %d px -> %d x %d x %d latents (%s, scale %s, flip %s), %d shards in %s%n",
                    data.size(), data.classes().size(), images, imageSize, config.embedDim(), imageSize / factor, imageSize / factor,
                    vaeSample ? "sampled" : "mean", config.scalingFactor(), flip.name().toLowerCase(Locale.ROOT), shards, out);
            Progress progress = Progress.ofCount(data.size(), "images");
            int done = 0;
            List<Integer> todo = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                if (complete(s, data.size())) done += shardLength(s, data.size());
                else todo.add(s);
            }
            if (done > 0) System.out.printf("resuming: %d of %d images already encoded in %s%n", done, data.size(), out);
            progress.at(done);
            for (int s : todo) {
                encodeShard(s, data, autoencoder, pool, dev, text);
                done += shardLength(s, data.size());
                progress.at(done);
            }
            progress.done();
        }
        System.out.printf("wrote %d shards to %s; train with: ./dit4j train-latents --latents %s --model ...; live tensors %d%n",
                shards, out, out, Torch.liveTensors());
        return 0;
    }

    private Path shard(int s) {
        return outOption.dir().resolve(String.format("%08d.safetensors", s * shardSize));
    }

    private int shardLength(int s, int total) {
        return Math.min(shardSize, total - s * shardSize);
    }

    private int perImage() {
        return flip == Flip.BOTH ? 2 : 1;
    }

    private boolean complete(int s, int total) {
        Path f = shard(s);
        if (!Files.exists(f)) return false;
        try (var source = Safetensors.index(f)) {
            long[] shape = source.shape("latents");
            return shape != null && shape[0] == (long) shardLength(s, total) * perImage() && (!captions || source.shape(LatentFiles.CAPTIONS) != null);
        }
    }

    /** One shard: its images decoded on the pool one batch ahead of the encoder, encoded batch by batch, written at once. */
    private void encodeShard(int s, Dataset data, AutoencoderKL autoencoder, ExecutorService pool, Device dev, CaptionEmbedder text)
            throws InterruptedException {
        int first = s * shardSize, length = shardLength(s, data.size()), batch = batchOption.batch();
        try (TensorScope scope = TensorScope.open(); var noGrad = Autograd.noGrad();
             Generator gen = Generator.create(SampleRequest.batchSeed(seedOption.seed(), s), dev)) {
            List<Tensor> latents = new ArrayList<>();
            List<Tensor> labels = new ArrayList<>();
            Pending next = decode(pool, data, first, Math.min(batch, length));
            for (int start = 0; start < length; start += batch) {
                int n = Math.min(batch, length - start);
                float[] pixels = await(next);
                if (start + n < length) next = decode(pool, data, first + start + n, Math.min(batch, length - start - n));
                try (TensorScope b = TensorScope.open()) {
                    Tensor x = Tensor.of(pixels, n, 3, imageSize, imageSize).to(dev);
                    long[] y = new long[n];
                    for (int i = 0; i < n; i++) y[i] = data.label(first + start + i);
                    Tensor ys = Tensor.of(y, n);
                    if (flip == Flip.RANDOM) x = flipSome(x, first + start);
                    if (flip == Flip.BOTH) { // image i, then its mirror
                        x = Tensor.stack(List.of(x, x.flip(3)), 1).reshape(2L * n, 3, imageSize, imageSize);
                        ys = Tensor.stack(List.of(ys, ys), 1).reshape(2L * n);
                    }
                    try (DiagonalGaussian posterior = autoencoder.encode(x)) {
                        Tensor z = (vaeSample ? posterior.sample(gen) : posterior.mean()).mul(autoencoder.scalingFactor());
                        latents.add(b.keep(z.to(Device.CPU, DType.FLOAT32)));
                        labels.add(b.keep(ys));
                    }
                }
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("first_image", Integer.toString(first));
            meta.put("images", Integer.toString(length));
            meta.put("flip", flip.name().toLowerCase(Locale.ROOT));
            if (text == null) {
                LatentFiles.write(shard(s), Tensor.cat(latents, 0), Tensor.cat(labels, 0), meta);
            } else {
                meta.put("text_encoder", textEncoder.toAbsolutePath().normalize().toString());
                meta.put("text_width", Integer.toString(text.config().width()));
                LatentFiles.write(shard(s), Tensor.cat(latents, 0), Tensor.cat(labels, 0), text.shard((CaptionedImages) data, first, length), meta);
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
        for (int i = 0; i < n; i++) mirror[i] = (mix(seedOption.seed() ^ (firstIndex + i) * 0x9E3779B97F4A7C15L) & 1) == 1;
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
    private Pending decode(ExecutorService pool, Dataset data, int first, int n) {
        int elements = 3 * imageSize * imageSize;
        float[] out = new float[n * elements];
        List<Future<?>> parts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = first + i, offset = i * elements;
            parts.add(pool.submit(() -> {
                float[] chw = new float[elements];
                data.readImage(index, chw);
                System.arraycopy(chw, 0, out, offset, elements);
            }));
        }
        return new Pending(out, parts);
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

    /** What the shards depend on; the image and class counts stand for the folder's listing, which numbers the images. */
    private Map<String, String> settings(AutoencoderKL.Config config, Dataset data, ClipTextConfig text) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("images", images.toAbsolutePath().normalize() + " (" + data.size() + " images, " + data.classes().size() + " classes)");
        if (text != null) {
            s.put("captions", Integer.toString(((CaptionedImages) data).captionCount()));
            s.put("text-encoder", textEncoder.toAbsolutePath().normalize() + " (" + text.name() + ", width " + text.width() + ")");
            s.put("vocab", vocab == null ? "open_clip's" : vocab.toAbsolutePath().normalize().toString());
        }
        s.put("vae", vae.toAbsolutePath().normalize().toString());
        s.put("vae-scale", Double.toString(config.scalingFactor()));
        s.put("latent", vaeSample ? "sample" : "mean");
        s.put("image-size", Integer.toString(imageSize));
        s.put("flip", flip.name().toLowerCase(Locale.ROOT));
        s.put("shard-size", Integer.toString(shardSize));
        s.put("seed", Long.toString(seedOption.seed()));
        return s;
    }

    /** The text encoder's configuration: --text-preset's, else the preset of the weights' layout, sized as the weights are. */
    private ClipTextConfig textConfig() {
        if (textPreset != null) return ClipTextWeights.configFor(ClipTextConfig.PRESETS.get(textPreset), textEncoder);
        ClipTextConfig cfg = ClipTextWeights.configFor(ClipTextConfig.OPENCLIP_VIT_H_14, textEncoder);
        return cfg.layout() == ClipTextConfig.Layout.TRANSFORMERS ? ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, textEncoder) : cfg;
    }

    /** The text encoder and its tokenizer: every caption of a shard's images to hidden states [M, T, D], float16 on the CPU. */
    private final class CaptionEmbedder implements AutoCloseable {
        private final ClipTextEncoder encoder;
        private final ClipTokenizer tokenizer;
        private final Tensor empty;

        CaptionEmbedder(ClipTextConfig config, Device dev) {
            int context = Math.min(ClipTokenizer.CONTEXT_LENGTH, config.contextLength());
            tokenizer = ClipTokenizer.open(vocab != null ? vocab : OpenClipVocabularyFile.path()).withContextLength(context);
            encoder = config.load(textEncoder, DType.FLOAT32, dev);
            encoder.eval();
            try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
                empty = s.keep(encoder.encode(tokenizer, List.of("")).to(Device.CPU, DType.FLOAT16));
            }
        }

        ClipTextConfig config() {
            return encoder.config();
        }

        int tokens() {
            return tokenizer.contextLength();
        }

        /** The captions of images [first, first + n): their embeddings in image order, each image's count, the empty caption's. */
        LatentFiles.Captions shard(CaptionedImages data, int first, int n) {
            List<String> all = new ArrayList<>();
            long[] counts = new long[n];
            for (int i = 0; i < n; i++) {
                List<String> c = data.captions(first + i);
                counts[i] = c.size();
                all.addAll(c);
            }
            try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
                List<Tensor> parts = new ArrayList<>();
                for (int from = 0; from < all.size(); from += batchOption.batch()) {
                    List<String> chunk = all.subList(from, Math.min(all.size(), from + batchOption.batch()));
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

    /** {@code --flip}: none, random or both. */
    static final class FlipParser implements picocli.CommandLine.ITypeConverter<Flip> {
        @Override
        public Flip convert(String text) {
            try {
                return Flip.valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("'" + text + "': expected random, both or none");
            }
        }
    }
}
