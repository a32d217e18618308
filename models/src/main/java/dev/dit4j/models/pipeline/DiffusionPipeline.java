package dev.dit4j.models.pipeline;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.Weights;
import dev.dit4j.models.family.CheckpointInfo;
import dev.dit4j.models.family.ModelFamily;
import dev.dit4j.models.family.Recipe;
import dev.dit4j.models.sampling.SampleChain;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.text.CaptionConditioning;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTextWeights;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Autocast;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A diffusion model ready to sample as its authors do, from its weights alone: the family and
 * configuration are probed from the file ({@link ModelFamily#probe}), the sampler, steps, guidance
 * and null condition come from the family's recipe, and an autoencoder (latent models) and a CLIP
 * text encoder (text-to-image models) complete it. {@link #sample} turns a {@link SampleRequest}
 * into latents and images; batch b of a request draws from its own seeded generator, so
 * {@link #sampleBatch} of any b gives the same pictures as the whole run. {@link Builder#dtype}
 * loads the networks in bfloat16 or float16, cast once instead of at every step as under
 * autocast; the samplers' arithmetic stays in float32.
 *
 * <pre>{@code
 * try (DiffusionPipeline p = DiffusionPipeline.from(Path.of("DiT-XL-2-256x256.pt")).autoencoder(Path.of("sd-vae-ft-ema.safetensors")).load();
 *      Samples s = p.sample(SampleRequest.labels(207, 360, 387, 974).withSeed(0))) {
 *     List<BufferedImage> images = s.toImages();
 * }
 * }</pre>
 */
public final class DiffusionPipeline implements AutoCloseable {
    private final DiffusionModel<?> model;
    private final CheckpointInfo checkpoint;
    private final Recipe recipe;
    private final AutoencoderKL autoencoder;
    private final ClipTextEncoder textEncoder;
    private final ClipTokenizer tokenizer;
    private final Tensor emptyCaption;
    private final Device device;
    private Sampler sampler;
    private String samplerKey;

    private DiffusionPipeline(DiffusionModel<?> model, CheckpointInfo checkpoint, AutoencoderKL autoencoder, ClipTextEncoder textEncoder,
                              ClipTokenizer tokenizer, Device device) {
        this.model = model;
        this.checkpoint = checkpoint;
        this.recipe = checkpoint.recipe();
        this.autoencoder = autoencoder;
        this.textEncoder = textEncoder;
        this.tokenizer = tokenizer;
        this.device = device;
        if (textEncoder == null) {
            this.emptyCaption = null;
        } else {
            try (var g = Autograd.noGrad()) {
                this.emptyCaption = TensorScope.release(textEncoder.encode(tokenizer, List.of("")));
            }
        }
    }

    /** A pipeline of the model in {@code weights} (a released state dict or a dit4j checkpoint, whose EMA weights are used). */
    public static Builder from(Path weights) {
        return new Builder(weights);
    }

    public DiffusionModel<?> model() {
        return model;
    }

    /** The family, configuration and metadata of the weights. */
    public CheckpointInfo checkpoint() {
        return checkpoint;
    }

    public Recipe recipe() {
        return recipe;
    }

    /** The autoencoder that decodes the latents, or null. */
    public AutoencoderKL autoencoder() {
        return autoencoder;
    }

    public Device device() {
        return device;
    }

    /** True when samples come with images: a pixel-space model, or latents an autoencoder decodes. */
    public boolean producesImages() {
        return autoencoder != null || pixelSpace();
    }

    private boolean pixelSpace() {
        return pixels(model.config());
    }

    /** A model of grey (1 channel) or RGB (3) pixels, not latents. */
    private static boolean pixels(DiffusionConfig<?> c) {
        return c.inChannels() == 1 || c.inChannels() == 3;
    }

    /** The guidance scale a request runs with. */
    public double guidance(SampleRequest r) {
        return r.guidance() != null ? r.guidance() : recipe.guidance();
    }

    /** All of a request's batches, joined in order (on the CPU). */
    public Samples sample(SampleRequest r) {
        List<Samples> parts = new ArrayList<>();
        try {
            for (int b = 0; b < r.batches(); b++) parts.add(sampleBatch(r, b));
            return parts.size() == 1 ? parts.removeFirst() : Samples.join(parts);
        } finally {
            parts.forEach(Samples::close);
        }
    }

    /** Batch {@code b} of a request: images {@code r.first(b)} to {@code r.first(b) + r.size(b) - 1}, on the CPU. */
    public Samples sampleBatch(SampleRequest r, int b) {
        check(r);
        if (b < 0 || b >= r.batches()) throw new IllegalArgumentException("batch " + b + " of a request of " + r.batches() + " batches");
        int n = r.size(b);
        long[] shape = model.config().sampleShape(n);
        Sampler s = sampler(r);
        double scale = guidance(r);
        try (TensorScope scope = TensorScope.open(); var noGrad = Autograd.noGrad();
             Generator g = Generator.create(SampleRequest.batchSeed(r.seed(), b), device);
             Autocast.Region amp = r.autocast() == null ? null : Autocast.enable(device, r.autocast())) {
            if (r.prompts() != null) {
                Conditioning c = recipe.captions(textEncoder.encode(tokenizer, cycled(r.prompts(), r.first(b), n)), emptyCaption);
                Tensor latents = SampleChain.sample(model, s, c, Tensor.randn(shape, DType.FLOAT32, device, g), scale, g);
                return finished(latents, Tensor.zeros(new long[] {n}, DType.INT64, Device.CPU), scope);
            }
            try (SampleChain.Batch out = SampleChain.sample(model, s, shape, cycled(r.labels(), r.first(b), n), scale, g, recipe.draw())) {
                Tensor labels = out.labels() != null ? out.labels().to(Device.CPU) : Tensor.zeros(new long[] {n}, DType.INT64, Device.CPU);
                return finished(out.latents(), labels, scope);
            }
        }
    }

    /** The batch's latents and labels on the CPU and, where the pipeline makes them, its images decoded in [-1, 1]; owned by the caller. */
    private Samples finished(Tensor latents, Tensor labels, TensorScope scope) {
        Tensor cpuLatents = latents.to(Device.CPU, DType.FLOAT32).contiguous();
        Tensor images = autoencoder != null ? decoded(latents) : pixelSpace() ? cpuLatents : null;
        return new Samples(owned(cpuLatents, scope), owned(labels, scope), images == null ? null : owned(images.clamp(-1, 1), scope));
    }

    /** The autoencoder's images of latents, in float32 on the CPU. */
    private Tensor decoded(Tensor latents) {
        DType weights = autoencoder.parameters().getFirst().dtype();
        return autoencoder.decode(latents.div(autoencoder.scalingFactor()).to(weights)).to(Device.CPU, DType.FLOAT32);
    }

    /** Out of every scope: the {@link Samples} owns it. */
    private static Tensor owned(Tensor t, TensorScope scope) {
        return TensorScope.release(scope.keep(t));
    }

    /** Refuses a request this pipeline cannot sample (labels of another model, prompts without a text encoder), by name. */
    public void check(SampleRequest r) {
        DiffusionConfig<?> c = model.config();
        boolean text = emptyCaption != null || recipe.nullCondition() == Recipe.NullCondition.ZEROS || recipe.nullCondition() == Recipe.NullCondition.EMPTY_CAPTION;
        if (r.prompts() != null && textEncoder == null) {
            throw new IllegalArgumentException(text ? c.name() + " is prompted through its text encoder: load the pipeline with one"
                    : c.name() + " has no text conditioning: it takes labels, not prompts");
        }
        if (r.prompts() == null && text) throw new IllegalArgumentException(c.name() + " is text-conditional: sample it from prompts");
        if (r.labels() == null) return;
        int k = c.numClasses();
        if (k <= 0) throw new IllegalArgumentException(c.name() + " is unconditional: it takes no labels");
        for (long y : r.labels()) {
            if (y < 0 || y >= k) throw new IllegalArgumentException("label " + y + " is not a class of " + c.name() + " (0 to " + (k - 1) + ")");
        }
    }

    /** The request's sampler, kept while requests ask for the same one. */
    private Sampler sampler(SampleRequest r) {
        String key = r.sampler() + " " + r.steps() + " " + r.settings();
        if (!key.equals(samplerKey)) {
            Sampler next = recipe.newSampler(r.sampler(), r.steps(), r.settings());
            if (sampler != null) sampler.close();
            sampler = next;
            samplerKey = key;
        }
        return sampler;
    }

    /** The sampler a request runs (kind and steps), e.g. to report it. */
    public SamplerKind samplerKind(SampleRequest r) {
        return r.sampler() != null ? r.sampler() : recipe.sampler();
    }

    public int steps(SampleRequest r) {
        return sampler(r).steps();
    }

    private static long[] cycled(long[] values, int from, int n) {
        if (values == null) return null;
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = values[(from + i) % values.length];
        return out;
    }

    private static List<String> cycled(List<String> values, int from, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(values.get((from + i) % values.size()));
        return out;
    }

    @Override
    public void close() {
        if (sampler != null) sampler.close();
        if (emptyCaption != null) emptyCaption.close();
        if (textEncoder != null) textEncoder.close();
        if (autoencoder != null) autoencoder.close();
        model.close();
    }

    /** Where the weights, the autoencoder and the text encoder come from, and what to check them against. */
    public static final class Builder {
        private final Path weights;
        private String preset;
        private Integer depth, classes, imageSize;
        private Path autoencoderFile;
        private Double autoencoderScale;
        private Path textEncoderFile, vocabulary;
        private Device device = Device.CPU;
        private DType dtype = DType.FLOAT32;
        private final Map<String, String> metadata = new LinkedHashMap<>();

        private Builder(Path weights) {
            this.weights = Objects.requireNonNull(weights, "weights");
        }

        /** The preset the weights are expected to be of (refused when the file holds another family); also the base its shapes are read against. */
        public Builder preset(String name) {
            this.preset = name;
            return this;
        }

        /** The depth and classes the weights were trained with, where not what the file's shapes say (null: the file's). */
        public Builder trainedWith(Integer depth, Integer classes) {
            this.depth = depth;
            this.classes = classes;
            return this;
        }

        /** The image side in pixels (checked against a file sized for one; sets it for a model without a position table). */
        public Builder imageSize(Integer pixels) {
            this.imageSize = pixels;
            return this;
        }

        /** The autoencoder that decodes latents (diffusers or LDM layout), with its own scale factor unless {@code scale} is given. */
        public Builder autoencoder(Path file, Double scale) {
            this.autoencoderFile = file;
            this.autoencoderScale = scale;
            return this;
        }

        public Builder autoencoder(Path file) {
            return autoencoder(file, null);
        }

        /** The CLIP text encoder (transformers' or open_clip's layout) and its BPE vocabulary, for prompts. */
        public Builder textEncoder(Path file, Path vocabularyFile) {
            this.textEncoderFile = file;
            this.vocabulary = vocabularyFile;
            return this;
        }

        public Builder device(Device d) {
            this.device = Objects.requireNonNull(d, "device");
            return this;
        }

        /**
         * The precision of the networks' weights (model, autoencoder, text encoder): float32 (the
         * default), bfloat16 or float16, cast once at load. The model runs in it and hands the
         * sampler float32, so no step casts the weights again as autocast does.
         */
        public Builder dtype(DType weights) {
            Objects.requireNonNull(weights, "dtype");
            if (weights != DType.FLOAT32 && weights != DType.BFLOAT16 && weights != DType.FLOAT16) {
                throw new IllegalArgumentException("weights dtype must be float32, bfloat16 or float16; got " + weights);
            }
            this.dtype = weights;
            return this;
        }

        /** Overrides an entry of the file's metadata that its recipe reads (e.g. U-ViT's "uvit_time"). */
        public Builder metadata(String key, String value) {
            metadata.put(key, value);
            return this;
        }

        public DiffusionPipeline load() {
            if (textEncoderFile != null && vocabulary == null) throw new IllegalArgumentException("a text encoder needs its BPE vocabulary file");
            try (WeightSource source = Weights.open(weights)) { // a .pt file is unpickled once, for the probe and the model
                CheckpointInfo info = probe(source);
                AutoencoderKL.Config vaeConfig = autoencoderFile == null ? null : autoencoderConfig(info.config());
                DiffusionConfig<?> config = info.config().overridden(depth, classes);
                config = config.resized(config.inChannels(), side(source, config, vaeConfig));
                info = new CheckpointInfo(info.family(), config, info.preset(), info.recorded(), info.metadata());
                for (var e : metadata.entrySet()) info = info.withMetadata(e.getKey(), e.getValue());
                info.recipe(); // a bad recorded recipe is refused before anything is loaded
                DiffusionModel<?> net = config.load(source, dtype, device);
                AutoencoderKL vae = null;
                ClipTextEncoder text = null;
                try {
                    net.inferenceMode();
                    ClipTokenizer tokenizer = null;
                    if (textEncoderFile != null) {
                        ClipTextConfig textConfig = textConfig(info.family(), net);
                        tokenizer = ClipTokenizer.open(vocabulary).withContextLength(contextOf(net, textConfig));
                        text = textConfig.load(textEncoderFile, dtype, device);
                        text.eval();
                    }
                    if (vaeConfig != null) {
                        vae = vaeConfig.load(autoencoderFile, dtype, device);
                        vae.eval();
                    }
                    return new DiffusionPipeline(net, info, vae, text, tokenizer, device);
                } catch (RuntimeException e) {
                    if (vae != null) vae.close();
                    if (text != null) text.close();
                    net.close();
                    throw e;
                }
            } catch (dev.dit4j.nn.StateDictMismatch e) {
                throw e.in("weights file " + weights);
            }
        }

        private CheckpointInfo probe(WeightSource source) {
            ModelFamily family = ModelFamily.holding(source).orElseThrow(() -> new IllegalArgumentException("weights " + weights
                    + " hold no DiT, U-ViT or U-DiT model (none of x_embedder.proj.weight, patch_embed.proj.weight): is it an autoencoder or another network?"));
            DiffusionConfig<?> base = null;
            if (preset != null) {
                ModelFamily wanted = ModelFamily.ofPreset(preset);
                if (wanted != family && wanted.reads(source)) family = wanted; // SiT's files hold DiT's network
                if (wanted != family) {
                    throw new IllegalArgumentException("weights " + weights + " hold a " + family.name() + " model, but " + preset + " is a " + wanted.name()
                            + " preset: pass a " + family.name() + " preset (" + family.presets().all().stream().limit(4).map(DiffusionConfig::name).toList() + ", ...)");
                }
                base = wanted.presets().get(preset);
            }
            return family.probe(source, base);
        }

        /** The autoencoder's architecture, read from its file, refused when its latents are not the model's. */
        private AutoencoderKL.Config autoencoderConfig(DiffusionConfig<?> model) {
            AutoencoderKL.Config c = AutoencoderKL.Config.inferFrom(autoencoderFile);
            if (autoencoderScale != null) c = c.withScalingFactor(autoencoderScale);
            if (c.embedDim() != model.inChannels()) {
                throw new IllegalArgumentException("autoencoder " + autoencoderFile + " has " + c.embedDim() + " latent channels, but the weights " + weights
                        + " take " + model.inChannels() + ": pass the autoencoder the model was trained with");
            }
            if (c.inChannels() != 3) throw new IllegalArgumentException("autoencoder " + autoencoderFile + " decodes to " + c.inChannels() + " channels, not RGB");
            return c;
        }

        /** The latent side: from the image size (checked against a file's position table), else the file's or the configuration's. */
        private int side(WeightSource source, DiffusionConfig<?> config, AutoencoderKL.Config vae) {
            if (imageSize == null) return config.side();
            int factor = vae != null ? vae.downsampling() : pixels(config) ? 1 : 8; // pixels, or an f8 autoencoder's latents
            if (imageSize % factor != 0) {
                throw new IllegalArgumentException("image size " + imageSize + " is not divisible by " + factor + ", the autoencoder's downsampling factor");
            }
            int side = imageSize / factor;
            boolean sized = source.shape("pos_embed") != null; // a position table fixes the side
            if (sized && config.side() != side) {
                throw new IllegalArgumentException("weights " + weights + " are sized for " + config.side() + "x" + config.side() + " latents ("
                        + config.side() * factor + " px images), not image size " + imageSize + ": pass image size " + config.side() * factor);
            }
            return side;
        }

        private ClipTextConfig textConfig(ModelFamily family, DiffusionModel<?> net) {
            if (family.textEncoder() == null) throw new IllegalArgumentException(net.config().name() + " has no text conditioning: it takes labels, not a text encoder");
            long[] tokenShape = CaptionConditioning.tokenShape(net);
            ClipTextConfig c = ClipTextWeights.configFor(family.textEncoder(), textEncoderFile);
            c.requireWidth((int) tokenShape[1], net.config().name());
            return c;
        }

        private int contextOf(DiffusionModel<?> net, ClipTextConfig text) {
            long[] tokenShape = CaptionConditioning.tokenShape(net);
            int context = tokenShape[0] > 0 ? (int) tokenShape[0] : Math.min(ClipTokenizer.CONTEXT_LENGTH, text.contextLength());
            if (context > text.contextLength()) {
                throw new IllegalArgumentException(net.config().name() + " takes " + context + " text tokens, but text encoder " + textEncoderFile
                        + " has positions for " + text.contextLength());
            }
            return context;
        }
    }
}
