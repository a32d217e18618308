package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.examples.options.TextEncoderOption;
import dev.dit4j.examples.options.TrainedSizeOption;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.family.CheckpointInfo;
import dev.dit4j.models.pipeline.DiffusionPipeline;
import dev.dit4j.models.pipeline.SampleRequest;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.sampling.SamplerSettings;
import dev.dit4j.models.text.CaptionFile;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Torch;
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
 * Samples a checkpoint (the authors' released files or dit4j's own) through a
 * {@link DiffusionPipeline}, for class labels or, with a text encoder, prompts: one PNG per image,
 * a grid (captioned for prompts), optionally the ADM evaluation suite's .npz, and the final
 * latents. Batch b draws from its own generator ({@link SampleRequest#batchSeed}), so a run can
 * stop anywhere and resume: batches whose outputs all exist are skipped, every file is written
 * atomically.
 */
@Command(name = "sample", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.Sample",
        description = "Sample a DiT, SiT, U-ViT, U-DiT or MicroDiT checkpoint into PNGs, a grid, an optional .npz (ADM evaluation format) and latents.")
public final class Sample implements Callable<Integer> {
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

    @Mixin
    TrainedSizeOption trained = new TrainedSizeOption();

    @Option(names = "--labels", split = ",", description = "class labels, used in turn (default: random classes)")
    long[] labels;

    @Option(names = "--prompt", description = "a caption to sample (repeatable): MicroDiT or a U-ViT text model, with --text-encoder")
    List<String> prompt;

    @Option(names = "--prompts", description = "a UTF-8 file of captions, one a line")
    Path promptsFile;

    @Mixin
    TextEncoderOption textEncoder = new TextEncoderOption();

    @Option(names = "--count", converter = Numbers.PositiveInt.class, description = "images to sample (default: one per --labels or prompt, else 8)")
    Integer count;

    @Mixin
    BatchOption batchOption = new BatchOption(8);

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Option(names = "--sampler", converter = SamplerParser.class, description = "ddpm, ddim, dpm-solver++, edm-heun, ode or sde (default: the family's: ddpm for DiT and U-DiT, "
            + "dpm-solver++ for U-ViT, edm-heun for MicroDiT, sde for SiT; ode for a model trained with --objective flow)")
    SamplerKind samplerKind;

    @Option(names = "--mode", description = "ode or sde: SiT's transport samplers, for a model trained with a transport objective (the same as --sampler ode|sde)")
    String mode;

    @Option(names = "--sampling-method", description = "the ode's integrator (euler, heun, midpoint, dopri5; default dopri5) or the sde's (euler, heun; default euler)")
    String samplingMethod;

    @Option(names = "--atol", converter = Numbers.Positive.class, description = "dopri5's absolute tolerance (default 1e-6)")
    Double atol;

    @Option(names = "--rtol", converter = Numbers.Positive.class, description = "dopri5's relative tolerance (default 1e-3)")
    Double rtol;

    @Option(names = "--diffusion-form", description = "the sde's diffusion: constant, SBDM, sigma, linear, decreasing, increasing-decreasing (default sigma)")
    String diffusionForm;

    @Option(names = "--diffusion-norm", converter = Numbers.NonNegative.class, description = "the sde's diffusion norm (default 1)")
    Double diffusionNorm;

    @Option(names = "--last-step", description = "the sde's last step: Mean, Tweedie, Euler or None (default Mean)")
    String lastStep;

    @Option(names = "--last-step-size", converter = Numbers.NonNegative.class, description = "the sde's last step size (default 0.04)")
    Double lastStepSize;

    @Option(names = "--steps", converter = Numbers.PositiveInt.class, description = "sampling steps (default: the family's; 250 for ddpm, ode and sde, 50 otherwise); "
            + "for ode and sde the time points, as SiT's --num-sampling-steps")
    Integer steps;

    @Option(names = "--cfg", converter = Numbers.NonNegative.class, description = "guidance scale")
    Double cfg;

    enum UViTTime { DISCRETE, CONTINUOUS }

    @Option(names = "--uvit-time", converter = UViTTimeParser.class, description = "discrete or continuous (U-ViT only; see below)")
    UViTTime uvitTime;

    @Option(names = "--autocast", converter = AutocastParser.class, description = "none, bfloat16 or float16 (default ${DEFAULT-VALUE})")
    String autocast = "none";

    @Option(names = "--dtype", converter = WeightsDTypeParser.class,
            description = "the weights' precision: float32, bfloat16 or float16, cast once at load (default ${DEFAULT-VALUE})")
    String dtype = "float32";

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
        List<String> prompts = prompts();
        if (prompts != null && DiffusionConfig.preset(presetOption.name()).family().textEncoder() == null) {
            throw new ParameterException(spec.commandLine(), presetOption.name() + " has no text conditioning: --prompt and --prompts need a MicroDiT"
                    + " or a U-ViT text model (e.g. MicroDiT_XL_2, mscoco_uvit_small); use --labels for a class-conditional model");
        }
        if (prompts != null && textEncoder.file() == null) {
            throw new ParameterException(spec.commandLine(), "--prompt needs --text-encoder: the CLIP text encoder the model was trained with");
        }
        try (DiffusionPipeline pipeline = load(prompts != null)) {
            SampleRequest request = request(pipeline, prompts);
            Path latentsFile = latentsOut != null ? latentsOut : pipeline.producesImages() ? null : outOption.dir().resolve("latents.safetensors");
            checkOutputs(latentsFile);
            if (npz != null && !pipeline.producesImages()) throw new ParameterException(spec.commandLine(), "--npz holds images: pass --vae to decode the latents");
            try {
                pipeline.check(request);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            SampleRun run = new SampleRun(pipeline, request, new SampleFiles(outOption.dir()), latentsFile, npz);
            run.checkSettings(settings(pipeline, request));
            long side = pipeline.model().config().side();
            System.out.printf("model: %s from %s, %d x %d latents; %s, %d steps, guidance %.2f; %d images in batches of %d%n",
                    pipeline.model().config().name(), weights, side, side, pipeline.samplerKind(request).flag(), pipeline.steps(request),
                    pipeline.guidance(request), request.count(), request.batch());
            run.all();
        }
        System.out.printf("done; live tensors %d%n", Torch.liveTensors());
        return 0;
    }

    /** The prompts of --prompt and --prompts, in order; null when neither is given. */
    private List<String> prompts() {
        if (prompt == null && promptsFile == null) return null;
        if (labels != null) throw new ParameterException(spec.commandLine(), "--labels and --prompt: pass one of them");
        List<String> all = new ArrayList<>(prompt == null ? List.of() : prompt);
        if (promptsFile != null) all.addAll(CaptionFile.read(promptsFile));
        if (all.isEmpty()) throw new ParameterException(spec.commandLine(), "--prompts " + promptsFile + " holds no prompt");
        return all;
    }

    private DiffusionPipeline load(boolean text) {
        DiffusionPipeline.Builder b = DiffusionPipeline.from(weights).preset(presetOption.name()).trainedWith(trained.depth(), trained.classes()).imageSize(imageSize)
                .device(deviceOption.deviceForAutoencoder()).dtype(DType.valueOf(dtype.toUpperCase(Locale.ROOT)));
        if (vae != null) b.autoencoder(vae, vaeScale);
        if (text) b.textEncoder(textEncoder.file(), textEncoder.vocabulary() != null ? textEncoder.vocabulary() : OpenClipVocabularyFile.path());
        if (uvitTime != null) b.metadata(CheckpointInfo.UVIT_TIME, uvitTime.name().toLowerCase(Locale.ROOT));
        try {
            return b.load();
        } catch (StateDictMismatch e) {
            throw new IllegalArgumentException(e.getMessage() + " (--depth and --classes must be those the weights were trained with)", e);
        }
    }

    private SampleRequest request(DiffusionPipeline pipeline, List<String> prompts) {
        int n = count != null ? count : labels != null ? labels.length : prompts != null ? prompts.size() : 8;
        if (labels != null && labels.length == 0) throw new ParameterException(spec.commandLine(), "--labels is empty");
        SampleRequest r = SampleRequest.of(n).withBatch(batchOption.batch()).withSeed(seedOption.seed()).withSampler(kind(), steps).withGuidance(cfg)
                .withSettings(samplerSettings())
                .withAutocast(autocast.equals("none") ? null : DType.valueOf(autocast.toUpperCase(Locale.ROOT)));
        return prompts != null ? r.withPrompts(prompts) : labels != null ? r.withLabels(labels) : r;
    }

    /** --sampler, or --mode (ode, sde); refused when they differ. */
    private SamplerKind kind() {
        if (mode == null) return samplerKind;
        SamplerKind m;
        try {
            m = SamplerKind.parse(mode);
        } catch (IllegalArgumentException e) {
            m = null;
        }
        if (m != SamplerKind.ODE && m != SamplerKind.SDE) throw new ParameterException(spec.commandLine(), "--mode '" + mode + "': expected ode or sde");
        if (samplerKind != null && samplerKind != m) throw new ParameterException(spec.commandLine(), "--mode " + mode + " and --sampler " + samplerKind.flag() + ": pass one");
        return m;
    }

    private SamplerSettings samplerSettings() {
        return SamplerSettings.method(samplingMethod).withTolerances(atol, rtol).withDiffusion(diffusionForm, diffusionNorm).withLastStep(lastStep, lastStepSize);
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
    private Map<String, String> settings(DiffusionPipeline pipeline, SampleRequest r) {
        Map<String, String> s = new TreeMap<>();
        s.put("model", presetOption.name());
        s.put("weights", described(weights));
        s.put("latent-side", Integer.toString(pipeline.model().config().side()));
        s.put("depth", String.valueOf(trained.depth()));
        s.put("classes", String.valueOf(trained.classes()));
        s.put("labels", labels == null ? "random" : java.util.Arrays.toString(labels));
        if (r.prompts() != null) {
            s.put("prompts", String.join(" | ", r.prompts()));
            s.put("text-encoder", described(textEncoder.file()));
        }
        s.put("batch", Integer.toString(r.batch()));
        s.put("seed", Long.toString(r.seed()));
        s.put("sampler", samplerKind + " " + steps + " " + uvitTime);
        if (r.sampler() == SamplerKind.ODE || r.sampler() == SamplerKind.SDE || !r.settings().isEmpty()) s.put("sampler-settings", r.sampler() + " " + r.settings());
        s.put("cfg", Double.toString(pipeline.guidance(r)));
        s.put("autocast", autocast);
        if (!dtype.equals("float32")) s.put("dtype", dtype);
        s.put("vae", vae == null ? "none" : described(vae) + ", scale " + pipeline.autoencoder().scalingFactor());
        s.put("device", deviceOption.device().toString());
        return s;
    }

    private static String described(Path p) {
        try {
            return p.toAbsolutePath().normalize() + " (" + Files.size(p) + " bytes)";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + p, e);
        }
    }

    /** {@code --sampler}: ddpm, ddim, dpm-solver++ or edm-heun. */
    static final class SamplerParser implements picocli.CommandLine.ITypeConverter<SamplerKind> {
        @Override
        public SamplerKind convert(String text) {
            try {
                return SamplerKind.parse(text);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
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

    /** {@code --dtype}: float32, bfloat16 or float16. */
    static final class WeightsDTypeParser implements picocli.CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String text) {
            return oneOf(text, "float32", "bfloat16", "float16");
        }
    }

    /** {@code --autocast}: none, bfloat16 or float16. */
    static final class AutocastParser implements picocli.CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String text) {
            return oneOf(text, "none", "bfloat16", "float16");
        }
    }

    /** {@code text} in lower case when it is one of {@code choices}; otherwise picocli's conversion error, naming them. */
    private static String oneOf(String text, String... choices) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (java.util.Arrays.asList(choices).contains(s)) return s;
        String last = choices[choices.length - 1];
        String others = String.join(", ", java.util.Arrays.asList(choices).subList(0, choices.length - 1));
        throw new picocli.CommandLine.TypeConversionException("'" + text + "': expected " + others + " or " + last);
    }
}
