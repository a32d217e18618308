package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.EmaOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.examples.options.ResumeOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.DiT;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.Presets;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.train.AdmObjective;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.NoisePredictionObjective;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * Latent-space training of any preset on pre-extracted latents (see {@link LatentFiles}), with the
 * authors' recipe per family (DiT and U-DiT: ADM hybrid loss, AdamW 1e-4; U-ViT: noise MSE on
 * the discrete Stable Diffusion schedule, AdamW 2e-4, betas 0.99/0.99, weight decay 0.03), EMA,
 * optional bf16 autocast, pinned non-blocking batches, and atomic checkpoints that resume exactly
 * (data position included).
 */
@Command(name = "train-latents", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.TrainLatents",
        description = "Train a DiT, U-ViT or U-DiT preset on pre-extracted latents (safetensors shards of 'latents' and 'labels').")
public final class TrainLatents implements Callable<Integer> {
    @Mixin
    PresetOption presetOption = new PresetOption();

    @Option(names = "--latents", required = true, description = "a latent file or a folder of them")
    Path latents;

    @Option(names = "--classes", converter = Numbers.PositiveInt.class, description = "number of classes (default: the preset's)")
    Integer classes;

    @Option(names = "--depth", converter = Numbers.PositiveInt.class, description = "override the preset's depth (DiT blocks; U-ViT in + out blocks), for small runs")
    Integer depth;

    @Mixin
    BatchOption batchOption = new BatchOption(256);

    @Option(names = "--steps", converter = Numbers.PositiveLong.class, description = "train until this many steps in all (default ${DEFAULT-VALUE})")
    long steps = 1000;

    @Option(names = "--minutes", converter = Numbers.Positive.class, description = "stop after this long if --steps are not done first")
    Double minutes;

    @Mixin
    LrOption lrOption = LrOption.recipeDefault(); // the family's, see TrainLatents.properties

    @Mixin
    EmaOption emaOption = new EmaOption(0.9999);

    @Option(names = "--grad-clip", converter = Numbers.NonNegative.class, description = "clip the gradient norm to this (0 = off, the default)")
    double gradClip = 0;

    @Option(names = "--autocast", converter = AutocastParser.class, description = "none or bfloat16 (default ${DEFAULT-VALUE})")
    String autocast = "none";

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Option(names = "--log-every", converter = Numbers.PositiveInt.class, description = "read the loss back every N steps (default ${DEFAULT-VALUE})")
    int logEvery = 100;

    @Option(names = "--save-every", converter = Numbers.PositiveInt.class, description = "checkpoint every N steps (default ${DEFAULT-VALUE})")
    int saveEvery = 5000;

    @Mixin
    OutputDirOption outOption = new OutputDirOption(Path.of("out", "latents"));

    @Mixin
    ResumeOption resumeOption = new ResumeOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
        checkOutputs();
        try (DataParallelJob job = DataParallelJob.join(deviceOption.device()); LatentFiles data = LatentFiles.open(latents, List.of())) {
            Device dev = job.device();
            long[] shape = data.imageShape();
            if (shape[1] != shape[2]) throw new IllegalArgumentException("latents must be square, got " + shape[1] + "x" + shape[2]);
            if (job.isMain()) System.out.printf("data: %d latents of %dx%dx%d from %s%n", data.size(), shape[0], shape[1], shape[2], latents);
            Presets.Family family = Presets.Family.of(presetOption.name());
            ModelConfig<? extends DiffusionModel<?>> config = config(presetOption.name(), depth, classes, (int) shape[0], (int) shape[1]);
            try (DiffusionModel<?> net = config.create(dev, seedOption.seed()); DiffusionModel<?> ema = config.create(dev, seedOption.seed())) {
                resumeOption.check(net);
                Files.createDirectories(outOption.dir());
                train(net, ema, data, job, family);
            }
        }
        return 0;
    }

    /** Trains a model of any family with its authors' objective and optimiser settings; data-parallel under the launcher (--batch is global). */
    private void train(DiffusionModel<?> net, DiffusionModel<?> ema, LatentFiles data, DataParallelJob job, Presets.Family family) {
        Device dev = job.device();
        int numClasses = net.config().numClasses();
        TrainingObjective objective = family == Presets.Family.UVIT ? NoisePredictionObjective.uvit() : new AdmObjective();
        DiffusionTrainer.Options options = family == Presets.Family.UVIT
                ? options(2e-4).withBetas(0.99, 0.99).withWeightDecay(0.03) : options(1e-4);
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, objective, options, job.group());
             BatchLoader loader = job.shard(BatchLoader.builder(data, job.perRankBatch(batchOption.batch()))).seed(seedOption.seed()).pinMemory(dev.isCuda())
                     .resumeFrom(resumeOption.restore(trainer)).build()) {
            if (job.isMain()) System.out.printf("model: %s, %,d parameters; from step %d%n", net.describe(), net.parameterCount(), trainer.step());
            long start = System.nanoTime(), startStep = trainer.step();
            double budget = minutes != null ? minutes * 60 : Double.POSITIVE_INFINITY;
            while (trainer.step() < steps && job.agree((System.nanoTime() - start) / 1e9 < budget)) { // all ranks stop at the same step
                try (BatchLoader.Batch b = loader.next(); TensorScope s = TensorScope.open()) {
                    Tensor loss = trainer.trainStep(b.images().toNonBlocking(dev), Conditioning.labels(b.labels().toNonBlocking(dev), numClasses));
                    if (trainer.step() % logEvery == 0 && job.isMain()) {
                        double seconds = (System.nanoTime() - start) / 1e9;
                        System.out.printf(Locale.ROOT, "step %d  loss %.4f  %.1f img/s%n", trainer.step(), loss.item(),
                                (trainer.step() - startStep) * batchOption.batch() / seconds);
                    }
                }
                if (trainer.step() % saveEvery == 0) save(trainer, loader, job);
            }
            save(trainer, loader, job);
            trainedSteps = trainer.step();
        }
    }

    /** Set by a run: the step it ended at. */
    long trainedSteps;

    /**
     * The checkpoint must not replace a latent file, nor land among the latent shards (the next run
     * would read it as one); it may replace --resume, the run it continues.
     */
    private void checkOutputs() {
        OutputPaths.requireFolder(spec, "--out", outOption.dir());
        OutputPaths.requireDistinct(spec, "--out", outOption.dir(), "--latents", latents);
        OutputPaths.requireDistinct(spec, "the checkpoint", outOption.dir().resolve("checkpoint.safetensors"), "--latents", latents);
    }

    /** {@code --autocast}: none or bfloat16, checked at parse time rather than by DType.valueOf mid-run. */
    static final class AutocastParser implements ITypeConverter<String> {
        @Override
        public String convert(String text) {
            String s = text.trim().toLowerCase(Locale.ROOT);
            if (s.equals("none") || s.equals("bfloat16")) return s;
            throw new TypeConversionException("'" + text + "': expected none or bfloat16");
        }
    }

    /** Collective under data parallelism: every rank calls it, rank 0 writes. */
    private void save(DiffusionTrainer<?> trainer, BatchLoader loader, DataParallelJob job) {
        Path checkpoint = outOption.dir().resolve("checkpoint.safetensors");
        trainer.save(checkpoint, Map.of("loader", loader.state().encode()));
        if (job.isMain()) System.out.printf("saved %s at step %d%n", checkpoint, trainer.step());
    }

    private DiffusionTrainer.Options options(double defaultLr) {
        DType amp = autocast.equalsIgnoreCase("none") ? null : DType.valueOf(autocast.toUpperCase(Locale.ROOT));
        return DiffusionTrainer.Options.dit().withLr(lrOption.lr(defaultLr)).withEmaDecay(emaOption.decay()).withGradClip(gradClip)
                .withSeed(seedOption.seed()).withAutocast(amp);
    }

    /**
     * The preset {@code model} with train-latents' overrides (null: the preset's), for latents of
     * channels x size x size; {@code sample} builds the same model to load what this trains.
     */
    static ModelConfig<? extends DiffusionModel<?>> config(String model, Integer depth, Integer classes, int channels, int size) {
        return switch (Presets.Family.of(model)) {
            case UDIT -> {
                if (depth != null) throw new IllegalArgumentException("--depth applies to DiT and U-ViT presets, not " + model);
                UDiT.Config c = UDiT.PRESETS.get(model).withInChannels(channels);
                yield classes == null ? c : c.withNumClasses(classes);
            }
            case UVIT -> {
                UViT.Config c = UViT.PRESETS.get(model).withImgSize(size).withInChannels(channels);
                if (depth != null) c = c.withDepth(depth);
                yield classes == null ? c : c.withClasses(classes, true);
            }
            case DIT -> {
                DiT.Config c = DiT.PRESETS.get(model).withInputSize(size).withInChannels(channels);
                if (depth != null) c = c.withDepth(depth);
                yield classes == null ? c : c.withNumClasses(classes);
            }
            case MICRODIT -> throw new IllegalArgumentException(model + " is conditioned on captions; train-latents trains on class labels");
        };
    }
}
