package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.EmaOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.MinutesOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.ObjectiveOption;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.examples.options.ResumeOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.examples.options.TrainedSizeOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.Dataset;
import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.family.Recipe;
import dev.dit4j.models.family.TextTraining;
import dev.dit4j.models.train.DataParallelJob;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.LrSchedule;
import dev.dit4j.models.train.MicroDiTStage;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * Latent-space training of any preset on pre-extracted latents (see {@link LatentFiles}), with the
 * authors' recipe per family (DiT and U-DiT: ADM hybrid loss, AdamW 1e-4; U-ViT: noise MSE on
 * the discrete Stable Diffusion schedule, AdamW 2e-4, betas 0.99/0.99, weight decay 0.03), EMA,
 * optional bf16 autocast, pinned non-blocking batches, and atomic checkpoints that resume exactly
 * (data position included).
 *
 * <p>Text-to-image on captioned latents (extract-latents --captions): MicroDiT with EDM and
 * deferred masking, in its authors' four stages ({@code --stage 1..4}, {@link MicroDiTStage}),
 * and U-ViT's text presets with noise MSE (MS-COCO recipe: AdamW 2e-4, betas 0.9/0.9, weight
 * decay 0.03, 5,000 warm-up steps). Each image shows one of its captions per epoch; captions are
 * dropped for guidance with p 0.1 in each model's form (zeros for MicroDiT, the empty caption's
 * embedding for U-ViT).
 */
@Command(name = "train-latents", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.TrainLatents",
        description = "Train a DiT, U-ViT or U-DiT preset on pre-extracted latents (safetensors shards of 'latents' and 'labels'),"
                + " or MicroDiT / a U-ViT text preset on captioned latents (extract-latents --captions).")
public final class TrainLatents implements Callable<Integer> {
    @Mixin
    dev.dit4j.examples.options.DistTimeoutOption distTimeoutOption = new dev.dit4j.examples.options.DistTimeoutOption();

    @Mixin
    PresetOption presetOption = new PresetOption();

    @Option(names = "--latents", required = true, description = "a latent file or a folder of them")
    Path latents;

    @Mixin
    TrainedSizeOption trained = new TrainedSizeOption();

    @Option(names = "--width", converter = Numbers.PositiveInt.class, description = "override a text model's width (MicroDiT: backbone and patch mixer; U-ViT: 64-wide heads), for small runs")
    Integer width;

    @Option(names = "--caption-width", converter = Numbers.PositiveInt.class,
            description = "override a text model's caption width (U-ViT: and its caption length, from the latents) to train on a small text encoder's embeddings")
    Integer captionWidth;

    @Option(names = "--stage", converter = StageParser.class,
            description = "MicroDiT's authors' stage 1-4 (or microdit-1..4): all its settings, explicit options overriding (default 1)")
    MicroDiTStage stage;

    @Option(names = "--init", description = "start from these weights (a checkpoint's EMA, or a plain state dict); stage 3 recomputes the position table")
    Path init;

    @Option(names = "--mask-ratio", converter = Numbers.Fraction.class, description = "MicroDiT's deferred masking ratio (default: the stage's)")
    Double maskRatio;

    @Option(names = "--warmup", converter = Numbers.NonNegativeLong.class, description = "linear warm-up steps of the text models' learning rate (default: the stage's; U-ViT 5000)")
    Long warmup;

    @Option(names = "--ema-start", converter = Numbers.NonNegativeLong.class, description = "the EMA copies the weights up to this step, then decays (default: the stage's; 0)")
    Long emaStart;

    @Mixin
    BatchOption batchOption = new BatchOption(256);

    @Option(names = "--steps", converter = Numbers.PositiveLong.class, description = "train until this many steps in all (default ${DEFAULT-VALUE})")
    long steps = 1000;

    @Mixin
    MinutesOption minutesOption = MinutesOption.none(); // worded in TrainLatents.properties

    @Mixin
    LrOption lrOption = LrOption.recipeDefault(); // the family's, see TrainLatents.properties

    @Mixin
    EmaOption emaOption = new EmaOption(0.9999);

    @Mixin
    ObjectiveOption objectiveOption = new ObjectiveOption();

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
        StopSignals.install(); // SIGTERM / SIGINT: finish the step, write the checkpoint, exit 143 / 130
        checkOutputs();
        try (DataParallelJob job = deviceOption.joinDataParallel(distTimeoutOption.timeout()); LatentFiles data = LatentFiles.open(latents, List.of())) {
            Device dev = job.device();
            long[] shape = data.imageShape();
            if (shape[1] != shape[2]) throw new IllegalArgumentException("latents must be square, got " + shape[1] + "x" + shape[2]);
            if (job.isMain()) System.out.printf("data: %d latents of %dx%dx%d%s from %s%n", data.size(), shape[0], shape[1], shape[2],
                    data.captioned() ? " with captions (" + Arrays.toString(data.captionShape()) + " embeddings)" : "", latents);
            DiffusionConfig<?> preset = DiffusionConfig.preset(presetOption.name()).resized((int) shape[0], (int) shape[1]);
            if (data.captioned()) {
                if (objectiveOption.transport(spec) != null) {
                    throw new ParameterException(spec.commandLine(), "--objective flow trains class models; captioned latents train with their family's text plan");
                }
                TextTraining.Plan plan = textPlan(preset, data, dev);
                if (plan.note() != null && job.isMain()) System.out.println("note: " + plan.note());
                try (DiffusionModel<?> net = plan.config().create(dev, seedOption.seed()); DiffusionModel<?> ema = plan.config().create(dev, seedOption.seed())) {
                    prepare(net, plan.computedOnInit());
                    trainText(net, ema, plan, data, job);
                }
            } else {
                checkClassOptions(preset);
                DiffusionConfig<?> config = preset.overridden(trained.depth(), trained.classes());
                try (DiffusionModel<?> net = config.create(dev, seedOption.seed()); DiffusionModel<?> ema = config.create(dev, seedOption.seed())) {
                    prepare(net, Set.of());
                    train(net, ema, objectiveOption.applyTo(config.family().recipe(config, false), config, spec), data, job);
                }
            }
        }
        return StopSignals.exitCode(0);
    }

    /** Checks --resume against the model, loads --init into it, creates --out. */
    private void prepare(DiffusionModel<?> net, Set<String> computedOnInit) throws java.io.IOException {
        resumeOption.check(net);
        if (init != null) initFrom(net, computedOnInit);
        Files.createDirectories(outOption.dir());
    }

    /** Trains a class model with its family's recipe (objective, optimiser); data-parallel under the launcher (--batch is global). */
    private void train(DiffusionModel<?> net, DiffusionModel<?> ema, Recipe recipe, LatentFiles data, DataParallelJob job) {
        Device dev = job.device();
        int numClasses = net.config().numClasses();
        DiffusionTrainer.Options options = recipe.options().withLr(lrOption.lr(recipe.options().lr())).withEmaDecay(emaOption.decay())
                .withGradClip(gradClip).withSeed(seedOption.seed()).withAutocast(autocast());
        int batch = batchOption.batch();
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, recipe.objective(), options, job.group());
             BatchLoader loader = loader(data, job, batch)) {
            TrainingLoop.Result run = loop(job, steps, batch, recipe.metadata())
                    .listener(log(from -> String.format("model: %s, %,d parameters; from step %d", net.describe(), net.parameterCount(), from), null))
                    .build()
                    .run(trainer, loader, b -> trainer.trainStep(b.images().toNonBlocking(dev), Conditioning.labels(b.labels().toNonBlocking(dev), numClasses)));
            trainedSteps = run.step();
            if (run.stopped() && job.isMain()) StopSignals.report("train-latents", run.step(), outOption.dir().resolve("checkpoint.safetensors"));
        }
    }

    /** Set by a run: the step it ended at. */
    long trainedSteps;

    /**
     * A text model on captioned latents with its family's plan (MicroDiT: its stage's; U-ViT: its
     * MS-COCO recipe); each step draws the batch's captions (one per image for this epoch) from
     * the shards, the learning rate from the schedule.
     */
    private void trainText(DiffusionModel<?> net, DiffusionModel<?> ema, TextTraining.Plan plan, LatentFiles data, DataParallelJob job) {
        Device dev = job.device();
        long total = given("--steps") || plan.steps() == null ? steps : plan.steps();
        int batch = given("--batch") || plan.batch() == null ? batchOption.batch() : plan.batch();
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, plan.objective(), plan.options(), job.group());
             BatchLoader loader = loader(data.byIndex(), job, batch);
             TensorScope runScope = TensorScope.open()) {
            LrSchedule schedule = schedule(plan, total); // after the trainer, which owns the objective, so a refusal frees it
            Recipe recipe = net.config().family().recipe(net.config(), false);
            Tensor empty = data.emptyCaption().to(dev);
            TrainingLoop.Result run = loop(job, total, batch, plan.metadata())
                    .listener(log(from -> String.format("model: %s, %,d parameters; %s; from step %d to %d, batch %d", net.describe(), net.parameterCount(),
                            plan.description(), from, total, batch), step -> schedule.at(step - 1)))
                    .build()
                    .run(trainer, loader, b -> {
                        trainer.learningRate(schedule.at(trainer.step()));
                        // each epoch shows another of an image's captions
                        Tensor captions = data.captions(b.labels().toLongArray(), b.epoch(), seedOption.seed()).to(dev).to(DType.FLOAT32);
                        return trainer.trainStep(b.images().toNonBlocking(dev), recipe.captions(captions, empty));
                    });
            trainedSteps = run.step();
            if (run.stopped() && job.isMain()) StopSignals.report("train-latents", run.step(), outOption.dir().resolve("checkpoint.safetensors"));
        }
    }

    private static LrSchedule schedule(TextTraining.Plan plan, long total) {
        try {
            return plan.schedule(total);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + ": pass --warmup below --steps", e);
        }
    }

    /** --autocast, or null where the recipe decides (text models) and for none. */
    private DType autocast() {
        return autocast.equals("none") ? null : DType.valueOf(autocast.toUpperCase(Locale.ROOT));
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** The text-model options mean nothing for class-conditional training on latents without captions. */
    private void checkClassOptions(DiffusionConfig<?> preset) {
        if (preset.captionWidth() > 0)
            throw new IllegalArgumentException(presetOption.name() + " is conditioned on captions, but " + latents
                    + " holds no caption embeddings: extract them with extract-latents --captions --text-encoder ...");
        for (String o : List.of("--width", "--caption-width", "--stage", "--mask-ratio", "--warmup", "--ema-start"))
            if (given(o)) throw new IllegalArgumentException(o + " applies to text models on captioned latents (MicroDiT, U-ViT text presets)");
    }

    /**
     * --init's weights into {@code net} (before the trainer copies them to the EMA); the keys the
     * plan computes keep the model's values, as the authors' MicroDiT stage 3 ignores
     * {@code pos_embed} when it loads the 256 px weights.
     */
    private void initFrom(DiffusionModel<?> net, Set<String> computed) {
        if (resumeOption.file() != null) throw new IllegalArgumentException("--init starts a run from weights; --resume continues one: pass one of them");
        dev.dit4j.models.Weights.load(net, init, computed);
        System.out.printf("initialised from %s%s%n", init, computed.isEmpty() ? "" : " (" + String.join(", ", computed) + " computed for this model, not loaded)");
    }

    /**
     * The text preset sized for the latents and the captions by its family's plan: --depth,
     * --width, MicroDiT's --stage, ...; captions of another width or length than the model's are
     * refused unless --caption-width sizes the model to them.
     */
    private TextTraining.Plan textPlan(DiffusionConfig<?> preset, LatentFiles data, Device dev) {
        String model = presetOption.name();
        long[] caption = data.captionShape();
        String encoder = data.metadata().getOrDefault("text_encoder", "unknown");
        if (trained.classes() != null) throw new IllegalArgumentException("--classes applies to class-conditional presets; " + latents + " holds captions");
        if (captionWidth != null && captionWidth != caption[1])
            throw new IllegalArgumentException("--caption-width " + captionWidth + " but " + latents + " holds " + caption[1] + "-wide caption embeddings");
        if (preset.captionWidth() <= 0) {
            throw new IllegalArgumentException(model + " is class-conditional, but " + latents
                    + " holds caption embeddings: train MicroDiT or a U-ViT text preset on them (e.g. --model MicroDiT_Tiny_2 or mscoco_uvit_small)");
        }
        TextTraining.Settings settings = new TextTraining.Settings(trained.depth(), width, captionWidth, (int) caption[0], stage, maskRatio, warmup,
                lrOption.given(), emaStart, given("--ema") ? emaOption.decay() : null, given("--grad-clip") ? gradClip : null,
                given("--autocast") ? autocast() : null, seedOption.seed());
        TextTraining.Plan plan = preset.family().textTraining(preset, settings, dev);
        DiffusionConfig<?> c = plan.config();
        if (c.captionWidth() != caption[1])
            throw new IllegalArgumentException(latents + " holds " + caption[1] + "-wide caption embeddings (text encoder " + encoder + "), but " + model + " takes "
                    + c.captionWidth() + "-wide caption tokens: extract them with a text encoder of width " + c.captionWidth() + ", or pass --caption-width "
                    + caption[1] + " to train a model on them");
        if (c.captionTokens() > 0 && c.captionTokens() != caption[0])
            throw new IllegalArgumentException(latents + " holds captions of " + caption[0] + " tokens, but " + model + " takes " + c.captionTokens()
                    + ": extract them with the tokenizer's " + c.captionTokens() + "-token context, or pass --caption-width to size the model to them");
        return plan;
    }

    /**
     * The checkpoint must not replace a latent file, nor land among the latent shards (the next run
     * would read it as one); it may replace --resume, the run it continues.
     */
    private void checkOutputs() {
        OutputPaths.requireFolder(spec, "--out", outOption.dir());
        OutputPaths.requireDistinct(spec, "--out", outOption.dir(), "--latents", latents);
        OutputPaths.requireDistinct(spec, "the checkpoint", outOption.dir().resolve("checkpoint.safetensors"), "--latents", latents);
    }

    /** {@code --stage}: MicroDiT's stage 1-4. */
    static final class StageParser implements ITypeConverter<MicroDiTStage> {
        @Override
        public MicroDiTStage convert(String text) {
            try {
                return MicroDiTStage.of(text);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
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

    /** This rank's share of the global {@code batch}, shuffled by --seed, pinned for CUDA. */
    private BatchLoader loader(Dataset data, DataParallelJob job, int batch) {
        return job.shard(BatchLoader.builder(data, job.perRankBatch(batch))).seed(seedOption.seed()).pinMemory(job.device().isCuda()).build();
    }

    /**
     * The run: up to {@code total} steps (or --minutes), the loss every --log-every steps, a
     * checkpoint with {@code metadata} every --save-every steps and at the end, --resume.
     */
    private TrainingLoop.Builder loop(DataParallelJob job, long total, int batch, Map<String, String> metadata) {
        return minutesOption.applyTo(TrainingLoop.builder().steps(total)).logEvery(logEvery).batchSize(batch)
                .checkpoint(outOption.dir().resolve("checkpoint.safetensors"), saveEvery).metadata(metadata)
                .resume(resumeOption.file()).dataParallel(job).stopWhen(StopSignals::requested);
    }

    /** Prints {@code header} at the start, each reading (with the learning rate of its step, when scheduled) and each checkpoint. */
    private static TrainingLoop.Listener log(java.util.function.LongFunction<String> header, java.util.function.LongToDoubleFunction lr) {
        return new TrainingLoop.Listener() {
            @Override
            public void started(long step) {
                System.out.println(header.apply(step));
            }

            @Override
            public void progress(TrainingLoop.Progress p) {
                String rate = lr == null ? "" : String.format(Locale.ROOT, "  lr %.3g", lr.applyAsDouble(p.step()));
                System.out.printf(Locale.ROOT, "step %d  loss %.4f%s  %.1f img/s%n", p.step(), p.loss(), rate, p.imagesPerSecond());
            }

            @Override
            public void saved(Path checkpoint, long step) {
                System.out.printf("saved %s at step %d%n", checkpoint, step);
            }
        };
    }
}
