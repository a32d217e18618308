package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.Presets;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.models.Weights;
import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.sampling.SampleChain;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Autocast;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Samples a DiT, U-ViT or U-DiT checkpoint (the authors' released files or dit4j's own) into
 * images: one PNG per image, a grid, optionally the ADM evaluation suite's .npz, and the final
 * latents. Batch b draws from its own generator (see {@link #batchSeed}), as the authors' scripts
 * draw one batch ({@link SampleChain}), so a run can stop anywhere and resume: batches whose
 * outputs all exist are skipped, and every file is written atomically.
 */
@Command(name = "sample", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.Sample",
        description = "Sample a DiT, U-ViT or U-DiT checkpoint into PNGs, a grid, an optional .npz (ADM evaluation format) and latents.")
public final class Sample implements Callable<Integer> {
    /** Images in the grid at most. */
    private static final int GRID_LIMIT = 64;

    enum SamplerKind { DDPM, DDIM, DPM_SOLVER_PP }

    @Mixin
    PresetOption presetOption = new PresetOption();

    @Option(names = {"--weights", "--ckpt"}, required = true, description = ".pt/.pth/.safetensors: a released state dict or a dit4j checkpoint (its EMA)")
    Path weights;

    @Option(names = "--vae", description = "the autoencoder to decode with (diffusers or LDM layout: sd-vae-ft-ema's "
            + "diffusion_pytorch_model.safetensors, U-ViT's autoencoder_kl.pth); without it a latent model writes latents only")
    Path vae;

    @Option(names = "--vae-scale", converter = Numbers.Positive.class, description = "latent scale factor (default: the autoencoder's, 0.18215 for SD's)")
    Double vaeScale;

    @Option(names = "--image-size", converter = Numbers.PositiveInt.class, description = "image side in pixels (default: what the weights are sized for)")
    Integer imageSize;

    @Option(names = "--depth", converter = Numbers.PositiveInt.class, description = "the depth the weights were trained with, when not the preset's (train-latents --depth)")
    Integer depth;

    @Option(names = "--classes", converter = Numbers.PositiveInt.class, description = "the class count the weights were trained with, when not the preset's")
    Integer classes;

    @Option(names = "--labels", split = ",", description = "class labels, used in turn (default: random classes)")
    long[] labels;

    @Option(names = "--prompt", description = "a caption to sample (repeatable): MicroDiT or a U-ViT text model, with --text-encoder")
    List<String> prompt;

    @Option(names = "--prompts", description = "a UTF-8 file of captions, one a line")
    Path promptsFile;

    @Option(names = "--text-encoder", description = "the CLIP text encoder (.safetensors/.pt: transformers' or open_clip's layout) for --prompt")
    Path textEncoder;

    @Option(names = "--vocab", description = "the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, vocab.json + merges.txt, tokenizer.json) (default: open_clip's)")
    Path vocab;

    @Option(names = "--count", converter = Numbers.PositiveInt.class, description = "images to sample (default: one per --labels, else 8)")
    Integer count;

    @Mixin
    BatchOption batchOption = new BatchOption(8);

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Option(names = "--sampler", converter = SamplerParser.class, description = "ddpm, ddim or dpm-solver++ (default: ddpm for DiT and U-DiT, dpm-solver++ for U-ViT)")
    SamplerKind samplerKind;

    @Option(names = "--steps", converter = Numbers.PositiveInt.class, description = "sampling steps (default: 250 for ddpm, 50 otherwise)")
    Integer steps;

    @Option(names = "--cfg", converter = Numbers.NonNegative.class, description = "guidance scale")
    Double cfg;

    enum UViTTime { DISCRETE, CONTINUOUS }

    @Option(names = "--uvit-time", converter = UViTTimeParser.class, description = "discrete or continuous (U-ViT only; see below)")
    UViTTime uvitTime;

    @Option(names = "--autocast", converter = AutocastParser.class, description = "none, bfloat16 or float16 (default ${DEFAULT-VALUE})")
    String autocast = "none";

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Mixin
    OutputDirOption outOption = new OutputDirOption(Path.of("out", "samples"));

    @Option(names = "--npz", description = "also write the images as an .npz of uint8 arr_0 [N, H, W, 3] (ADM's evaluation suite)")
    Path npz;

    @Option(names = "--latents-out", description = "write the final latents ('latents' [N, C, H, W], 'labels' [N]) to this safetensors file")
    Path latentsOut;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (prompt != null || promptsFile != null) return new PromptSample(this).run();
        Device dev = deviceOption.deviceForAutoencoder();
        String model = presetOption.name();
        Presets.Family family = Presets.Family.of(model);
        try (WeightSource source = Weights.open(weights)) { // a .pt file is unpickled once, for the probe and the model
            return sample(source, dev, model, family);
        }
    }

    private int sample(WeightSource source, Device dev, String model, Presets.Family family) {
        CheckpointProbe probe = CheckpointProbe.of(source);
        probe.requireFamily(model, weights);
        AutoencoderKL.Config vaeConfig = vae == null ? null : autoencoder(probe);
        int factor = vaeConfig != null ? vaeConfig.downsampling() : probe.channels() == 3 ? 1 : 8; // pixels, or an f8 autoencoder's latents
        int side = latentSide(probe, family, factor);
        int n = count != null ? count : labels != null ? labels.length : 8;
        boolean images = vae != null || probe.channels() == 3; // a pixel-space model's samples are the images
        Path latentsFile = latentsOut != null ? latentsOut : images ? null : outOption.dir().resolve("latents.safetensors");
        checkOutputs(latentsFile);
        if (npz != null && !images) throw new ParameterException(spec.commandLine(), "--npz holds images: pass --vae to decode the latents");
        ModelConfig<? extends DiffusionModel<?>> config = TrainLatents.config(model, depth, classes, (int) probe.channels(), side);
        try (DiffusionModel<?> net = load(config, source, dev); Sampler sampler = sampler(net, family);
             AutoencoderKL decoder = vaeConfig == null ? null : vaeConfig.load(vae, DType.FLOAT32, dev)) {
            double scale = cfg != null ? cfg : net instanceof UViT u ? (u.config().nullLabel() ? 1.4 : 1) : 4.0; // U-ViT without a null label: no guidance
            checkLabels(net);
            if (decoder != null) decoder.eval();
            Run run = new Run(net, sampler, decoder, new long[] {probe.channels(), side, side}, n, scale, images, latentsFile, dev);
            run.checkSettings(settings(side, scale, vaeConfig));
            System.out.printf("model: %s from %s, %d x %d latents; %s, %d steps, guidance %.2f; %d images in batches of %d%n",
                    net.config().name(), weights, side, side, sampler.getClass().getSimpleName(), sampler.steps(), scale, n, batchOption.batch());
            run.all();
        }
        System.out.printf("done; live tensors %d%n", Torch.liveTensors());
        return 0;
    }

    /** The autoencoder's architecture, read from its file, refused when its latents are not the model's. */
    private AutoencoderKL.Config autoencoder(CheckpointProbe probe) {
        AutoencoderKL.Config c = AutoencoderKL.Config.inferFrom(vae);
        if (vaeScale != null) c = c.withScalingFactor(vaeScale);
        if (c.embedDim() != probe.channels()) {
            throw new IllegalArgumentException("autoencoder " + vae + " has " + c.embedDim() + " latent channels, but the weights " + weights
                    + " take " + probe.channels() + ": pass the autoencoder the model was trained with");
        }
        if (c.inChannels() != 3) throw new IllegalArgumentException("autoencoder " + vae + " decodes to " + c.inChannels() + " channels, not RGB");
        return c;
    }

    /** The latent side: from --image-size (checked against the weights' position table), else the table's, else the preset's. */
    private int latentSide(CheckpointProbe probe, Presets.Family family, int factor) {
        if (imageSize == null) {
            if (probe.side() > 0) return Math.toIntExact(probe.side());
            int preset = switch (family) {
                case DIT -> dev.dit4j.models.DiT.PRESETS.get(presetOption.name()).inputSize();
                case UVIT -> UViT.PRESETS.get(presetOption.name()).imgSize();
                case UDIT -> 32;
                case MICRODIT -> dev.dit4j.models.MicroDiT.PRESETS.get(presetOption.name()).inputSize();
            };
            return preset;
        }
        if (imageSize % factor != 0) {
            throw new ParameterException(spec.commandLine(), "--image-size " + imageSize + " is not divisible by " + factor
                    + ", the autoencoder's downsampling factor");
        }
        int side = imageSize / factor;
        if (probe.side() > 0 && probe.side() != side) {
            throw new ParameterException(spec.commandLine(), "weights " + weights + " are sized for " + probe.side() + "x" + probe.side()
                    + " latents (" + probe.side() * factor + " px images), not --image-size " + imageSize + ": pass --image-size " + probe.side() * factor);
        }
        return side;
    }

    private DiffusionModel<?> load(ModelConfig<? extends DiffusionModel<?>> config, WeightSource source, Device dev) {
        DiffusionModel<?> net;
        try {
            net = config.load(source, DType.FLOAT32, dev);
        } catch (StateDictMismatch e) {
            throw new IllegalArgumentException(e.in("weights file " + weights).getMessage()
                    + " (--depth and --classes must be those the weights were trained with)", e);
        }
        if (net instanceof UDiT u) u.reparameterize(); // the merged inference form; also eval mode
        net.eval();
        return net;
    }

    /** The sampler the model's authors use unless --sampler says otherwise. */
    private Sampler sampler(DiffusionModel<?> net, Presets.Family family) {
        SamplerKind kind = samplerKind != null ? samplerKind : family == Presets.Family.UVIT ? SamplerKind.DPM_SOLVER_PP : SamplerKind.DDPM;
        int n = steps != null ? steps : kind == SamplerKind.DDPM ? 250 : 50;
        if (kind != SamplerKind.DPM_SOLVER_PP && !net.learnsSigma()) {
            throw new ParameterException(spec.commandLine(), net.config().name() + " predicts noise only (no learned variance), which "
                    + kind.name().toLowerCase(Locale.ROOT) + " here needs: use --sampler dpm-solver++");
        }
        return switch (kind) {
            case DDPM -> GaussianSampler.ddpm(n);
            case DDIM -> GaussianSampler.ddim(n, 0);
            case DPM_SOLVER_PP -> family != Presets.Family.UVIT ? DpmSolverPP.forDiT(n)
                    : continuousTime((UViT) net) ? DpmSolverPP.forUViTContinuous(n) : DpmSolverPP.forUViT(n);
        };
    }

    /**
     * U-ViT's time: its pixel models and its released L latent models were trained in continuous
     * time (train.py, train_ldm.py), its H models and everything train-latents trains in discrete
     * time (train_ldm_discrete.py). A dit4j checkpoint says so by its 'config' metadata.
     */
    private boolean continuousTime(UViT net) {
        if (uvitTime != null) return uvitTime == UViTTime.CONTINUOUS;
        if (net.config().inChannels() == 3) return true;
        String preset = UViT.PRESETS.get(presetOption.name()).name();
        return (preset.equals(UViT.IMAGENET256_L_2.name()) || preset.equals(UViT.IMAGENET512_L_4.name())) && !dit4jCheckpoint();
    }

    private boolean dit4jCheckpoint() {
        if (!weights.getFileName().toString().endsWith(".safetensors")) return false;
        try (var source = Safetensors.index(weights)) {
            return source.metadata().containsKey("config");
        }
    }

    private void checkLabels(DiffusionModel<?> net) {
        int k = net.config().numClasses();
        if (net instanceof UViT u && u.config().textConditional())
            throw new ParameterException(spec.commandLine(), u.config().name() + " is text-conditional; sample draws class-conditional and unconditional models");
        if (labels == null) return;
        if (k <= 0) throw new ParameterException(spec.commandLine(), net.config().name() + " is unconditional: it takes no --labels");
        for (long y : labels) {
            if (y < 0 || y >= k) throw new ParameterException(spec.commandLine(), "--labels: " + y + " is not a class of " + net.config().name() + " (0 to " + (k - 1) + ")");
        }
        if (labels.length == 0) throw new ParameterException(spec.commandLine(), "--labels is empty");
    }

    private void checkOutputs(Path latentsFile) {
        Path out = outOption.dir();
        OutputPaths.requireFolder(spec, "--out", out);
        OutputPaths.requireDistinct(spec, "--out", out, "--weights", weights);
        OutputPaths.requireDistinct(spec, "--latents-out", latentsFile, "--weights", weights);
        OutputPaths.requireDistinct(spec, "--npz", npz, "--weights", weights);
        OutputPaths.requireDistinct(spec, "--npz", npz, "--latents-out", latentsFile);
    }

    /** Everything that decides the pictures: a resumed run must match them (the count may grow). */
    private Map<String, String> settings(int side, double scale, AutoencoderKL.Config vaeConfig) {
        Map<String, String> s = new TreeMap<>();
        s.put("model", presetOption.name());
        s.put("weights", weights.toAbsolutePath().normalize() + " (" + size(weights) + " bytes)");
        s.put("latent-side", Integer.toString(side));
        s.put("depth", String.valueOf(depth));
        s.put("classes", String.valueOf(classes));
        s.put("labels", labels == null ? "random" : java.util.Arrays.toString(labels));
        s.put("batch", Integer.toString(batchOption.batch()));
        s.put("seed", Long.toString(seedOption.seed()));
        s.put("sampler", String.valueOf(samplerKind) + " " + steps + " " + uvitTime);
        s.put("cfg", Double.toString(scale));
        s.put("autocast", autocast);
        s.put("vae", vae == null ? "none" : vae.toAbsolutePath().normalize() + " (" + size(vae) + " bytes), scale " + vaeConfig.scalingFactor());
        s.put("device", deviceOption.device().toString());
        return s;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + p, e);
        }
    }

    /**
     * The generator seed of batch b: the seed itself for batch 0 (so one batch is the authors'
     * sample.py with that seed), then seeds a golden-ratio stride apart, so runs with nearby seeds
     * share no batches.
     */
    static long batchSeed(long seed, long batch) {
        return seed + batch * 0x9E3779B97F4A7C15L;
    }

    /** One sampling run into --out; batches already written are skipped. */
    private final class Run {
        private final DiffusionModel<?> net;
        private final Sampler sampler;
        private final AutoencoderKL decoder;
        private final long[] sampleShape;
        private final int count;
        private final double scale;
        private final boolean images;
        private final Path latentsFile;
        private final Device dev;
        private final SampleFiles files;
        /** U-ViT's eval_ldm_discrete.py draws its random labels before z; every other script z first. */
        private final SampleChain.Draw draw;

        Run(DiffusionModel<?> net, Sampler sampler, AutoencoderKL decoder, long[] sampleShape, int count, double scale, boolean images,
            Path latentsFile, Device dev) {
            this.net = net;
            this.sampler = sampler;
            this.decoder = decoder;
            this.sampleShape = sampleShape;
            this.count = count;
            this.scale = scale;
            this.images = images;
            this.latentsFile = latentsFile;
            this.dev = dev;
            this.files = new SampleFiles(outOption.dir());
            this.draw = net instanceof UViT u && !continuousTime(u) ? SampleChain.Draw.LABELS_FIRST : SampleChain.Draw.NOISE_FIRST;
        }

        void checkSettings(Map<String, String> settings) {
            files.checkSettings(settings);
        }

        void all() {
            int batch = batchOption.batch();
            int batches = (count + batch - 1) / batch;
            Progress progress = Progress.ofCount(count, "images");
            int done = 0;
            List<Integer> todo = new ArrayList<>();
            for (int b = 0; b < batches; b++) {
                if (complete(b)) done += size(b);
                else todo.add(b);
            }
            if (done > 0) System.out.printf("resuming: %d of %d images already in %s%n", done, count, outOption.dir());
            progress.at(done);
            for (int b : todo) {
                sampleBatch(b);
                done += size(b);
                progress.at(done);
            }
            progress.done();
            if (images) {
                files.writeGrid(Math.min(count, GRID_LIMIT));
                if (npz != null) files.writeNpz(npz, count);
            }
            if (latentsFile != null) files.joinLatents(latentsFile, batches, count);
            List<String> wrote = new ArrayList<>();
            if (images) wrote.add(count + " PNGs in " + files.imageDir() + ", " + files.grid());
            if (npz != null && images) wrote.add(npz.toString());
            if (latentsFile != null) wrote.add(latentsFile.toString());
            System.out.println("wrote " + String.join(", ", wrote));
        }

        private int first(int b) {
            return b * batchOption.batch();
        }

        private int size(int b) {
            return Math.min(batchOption.batch(), count - first(b));
        }

        private boolean complete(int b) {
            if (latentsFile != null && !files.hasShard(b, size(b))) return false;
            if (images) for (int i = first(b); i < first(b) + size(b); i++) if (!Files.exists(files.image(i))) return false;
            return true;
        }

        private void sampleBatch(int b) {
            long[] shape = {size(b), sampleShape[0], sampleShape[1], sampleShape[2]};
            long[] y = null;
            if (labels != null) {
                y = new long[size(b)];
                for (int i = 0; i < y.length; i++) y[i] = labels[(first(b) + i) % labels.length];
            }
            try (TensorScope s = TensorScope.open(); Generator g = Generator.create(batchSeed(seedOption.seed(), b), dev);
                 Autocast.Region amp = autocast.equals("none") ? null : Autocast.enable(dev, DType.valueOf(autocast.toUpperCase(Locale.ROOT)));
                 SampleChain.Batch out = SampleChain.sample(net, sampler, shape, y, scale, g, draw)) {
                Tensor latents = out.latents().to(Device.CPU, DType.FLOAT32);
                Tensor ys = out.labels() != null ? out.labels().to(Device.CPU) : Tensor.zeros(new long[] {size(b)}, DType.INT64, Device.CPU);
                if (latentsFile != null) files.writeShard(b, latents, ys, Map.of("seed", Long.toString(batchSeed(seedOption.seed(), b))));
                if (images) {
                    Tensor pixels = decoder == null ? latents : decoder.decode(out.latents().div(decoder.scalingFactor())).to(Device.CPU, DType.FLOAT32);
                    files.writeImages(first(b), pixels.clamp(-1, 1));
                }
            }
        }
    }

    /** {@code --sampler}: ddpm, ddim or dpm-solver++ (also dpm-solver, dpmsolver++). */
    static final class SamplerParser implements picocli.CommandLine.ITypeConverter<SamplerKind> {
        @Override
        public SamplerKind convert(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "ddpm" -> SamplerKind.DDPM;
                case "ddim" -> SamplerKind.DDIM;
                case "dpm-solver++", "dpmsolver++", "dpm-solver", "dpm" -> SamplerKind.DPM_SOLVER_PP;
                default -> throw new picocli.CommandLine.TypeConversionException("'" + text + "': expected ddpm, ddim or dpm-solver++");
            };
        }
    }

    /** {@code --uvit-time}: discrete or continuous. */
    static final class UViTTimeParser implements picocli.CommandLine.ITypeConverter<UViTTime> {
        @Override
        public UViTTime convert(String text) {
            try {
                return UViTTime.valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("'" + text + "': expected discrete or continuous");
            }
        }
    }

    /** {@code --autocast}: none, bfloat16 or float16. */
    static final class AutocastParser implements picocli.CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String text) {
            String s = text.trim().toLowerCase(Locale.ROOT);
            if (s.equals("none") || s.equals("bfloat16") || s.equals("float16")) return s;
            throw new picocli.CommandLine.TypeConversionException("'" + text + "': expected none, bfloat16 or float16");
        }
    }
}
