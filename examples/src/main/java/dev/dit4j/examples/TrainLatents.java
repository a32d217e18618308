package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.EmaOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.MinutesOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.examples.options.ResumeOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.DiT;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.Presets;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.Dataset;
import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.text.CaptionConditioning;
import dev.dit4j.models.train.AdmObjective;
import dev.dit4j.models.train.DataParallelJob;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.models.train.LrSchedule;
import dev.dit4j.models.train.MicroDiTStage;
import dev.dit4j.models.train.NoisePredictionObjective;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
    PresetOption presetOption = new PresetOption();

    @Option(names = "--latents", required = true, description = "a latent file or a folder of them")
    Path latents;

    @Option(names = "--classes", converter = Numbers.PositiveInt.class, description = "number of classes (default: the preset's)")
    Integer classes;

    @Option(names = "--depth", converter = Numbers.PositiveInt.class, description = "override the preset's depth (DiT and MicroDiT blocks; U-ViT in + out blocks), for small runs")
    Integer depth;

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
        try (DataParallelJob job = deviceOption.joinDataParallel(); LatentFiles data = LatentFiles.open(latents, List.of())) {
            Device dev = job.device();
            long[] shape = data.imageShape();
            if (shape[1] != shape[2]) throw new IllegalArgumentException("latents must be square, got " + shape[1] + "x" + shape[2]);
            if (job.isMain()) System.out.printf("data: %d latents of %dx%dx%d%s from %s%n", data.size(), shape[0], shape[1], shape[2],
                    data.captioned() ? " with captions (" + Arrays.toString(data.captionShape()) + " embeddings)" : "", latents);
            Presets.Family family = Presets.Family.of(presetOption.name());
            boolean text = data.captioned();
            if (!text) checkClassOptions();
            ModelConfig<? extends DiffusionModel<?>> config = text ? textConfig(data, (int) shape[0], (int) shape[1])
                    : config(presetOption.name(), depth, classes, (int) shape[0], (int) shape[1]);
            try (DiffusionModel<?> net = config.create(dev, seedOption.seed()); DiffusionModel<?> ema = config.create(dev, seedOption.seed())) {
                resumeOption.check(net);
                if (init != null) initFrom(net);
                Files.createDirectories(outOption.dir());
                if (text) trainText(net, ema, data, job);
                else train(net, ema, data, job, family);
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
        int batch = batchOption.batch();
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, objective, options, job.group());
             BatchLoader loader = loader(data, job, batch)) {
            TrainingLoop.Result run = loop(job, steps, batch, Map.of())
                    .listener(log(from -> String.format("model: %s, %,d parameters; from step %d", net.describe(), net.parameterCount(), from), null))
                    .build()
                    .run(trainer, loader, b -> trainer.trainStep(b.images().toNonBlocking(dev), Conditioning.labels(b.labels().toNonBlocking(dev), numClasses)));
            trainedSteps = run.step();
        }
    }

    /** Set by a run: the step it ended at. */
    long trainedSteps;

    /**
     * A text model on captioned latents: MicroDiT in its stage's recipe, or U-ViT's MS-COCO recipe;
     * each step draws the batch's captions (one per image for this epoch) from the shards, the
     * learning rate from the schedule.
     */
    private void trainText(DiffusionModel<?> net, DiffusionModel<?> ema, LatentFiles data, DataParallelJob job) {
        Device dev = job.device();
        boolean micro = net instanceof MicroDiT;
        Recipe recipe = micro ? microDiTRecipe((MicroDiT) net, dev) : uvitTextRecipe(dev);
        long total = given("--steps") || !micro ? steps : stage().steps();
        int batch = given("--batch") || !micro ? batchOption.batch() : stage().batch();
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, recipe.objective(), recipe.options(), job.group());
             BatchLoader loader = loader(data.byIndex(), job, batch);
             TensorScope runScope = TensorScope.open()) {
            LrSchedule schedule = recipe.schedule(total); // after the trainer, which owns the objective, so a refusal frees it
            Tensor empty = data.emptyCaption().to(dev);
            TrainingLoop.Result run = loop(job, total, batch, recipe.metadata())
                    .listener(log(from -> String.format("model: %s, %,d parameters; %s; from step %d to %d, batch %d", net.describe(), net.parameterCount(),
                            recipe.describe(), from, total, batch), step -> schedule.at(step - 1)))
                    .build()
                    .run(trainer, loader, b -> {
                        trainer.learningRate(schedule.at(trainer.step()));
                        // each epoch shows another of an image's captions
                        Tensor captions = data.captions(b.labels().toLongArray(), b.epoch(), seedOption.seed()).to(dev).to(DType.FLOAT32);
                        return trainer.trainStep(b.images().toNonBlocking(dev), CaptionConditioning.of(net, captions, empty));
                    });
            trainedSteps = run.step();
        }
    }

    /** A text model's objective, optimiser settings, learning-rate schedule, and what its checkpoint records for sampling. */
    private record Recipe(TrainingObjective objective, DiffusionTrainer.Options options, double lr, long warmup, MicroDiTStage stage,
                          Map<String, String> metadata, String describe) {
        LrSchedule schedule(long total) {
            if (stage == null) return LrSchedule.warmupConstant(lr, warmup);
            if (stage.cosine() && total <= warmup)
                throw new IllegalArgumentException("stage " + stage.number() + "'s cosine schedule warms up for " + warmup + " steps, but the run ends at step "
                        + total + ": pass --warmup below --steps");
            return stage.schedule(lr, warmup, total);
        }
    }

    private MicroDiTStage stage() {
        return stage != null ? stage : MicroDiTStage.PRETRAIN_256;
    }

    /** MicroDiT: the stage's EDM, mask ratio, AdamW, schedule, clipping, EMA and caption dropout, explicit options overriding. */
    private Recipe microDiTRecipe(MicroDiT net, Device dev) {
        MicroDiTStage st = stage();
        double mask = maskRatio != null ? maskRatio : st.maskRatio();
        DiffusionTrainer.Options o = st.options().withLr(lrOption.lr(st.lr())).withSeed(seedOption.seed()).withAutocast(autocast(dev));
        if (given("--grad-clip")) o = o.withGradClip(gradClip);
        if (given("--ema")) o = o.withEmaDecay(emaOption.decay());
        if (emaStart != null) o = o.withEmaStart(emaStart);
        long w = warmup != null ? warmup : st.warmup();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("edm_sigma_data", Double.toString(st.edm().sigmaData()));
        meta.put("stage", Integer.toString(st.number()));
        meta.put("mask_ratio", Double.toString(mask));
        String describe = String.format(Locale.ROOT, "MicroDiT stage %d (%s): EDM P_mean %s P_std %s, mask %.2f, lr %.3g (%s, %d warm-up), clip %s, EMA %s from step %d,"
                        + " caption dropout %.2f, autocast %s", st.number(), st.name(), st.pMean(), st.pStd(), mask, o.lr(), st.cosine() ? "cosine to " + st.floor() + "x" : "constant",
                w, o.gradClip(), o.emaDecay(), o.emaStart(), o.conditionDropout(), o.autocast() == null ? "none" : o.autocast());
        return new Recipe(new EdmObjective(st.edm(), mask, net.config().patch()), o, o.lr(), w, st, meta, describe);
    }

    /** U-ViT's MS-COCO recipe: noise MSE, AdamW 2e-4 (betas 0.9, 0.9, weight decay 0.03), 5,000 warm-up steps, the empty caption dropped in with p 0.1. */
    private Recipe uvitTextRecipe(Device dev) {
        DiffusionTrainer.Options o = DiffusionTrainer.Options.uvit().withBetas(0.9, 0.9).withLr(lrOption.lr(2e-4)).withEmaDecay(emaOption.decay())
                .withGradClip(gradClip).withSeed(seedOption.seed()).withAutocast(autocast(dev)).withConditionDropout(0.1)
                .withEmaStart(emaStart != null ? emaStart : 0);
        long w = warmup != null ? warmup : 5000;
        return new Recipe(NoisePredictionObjective.uvit(), o, o.lr(), w, null, Map.of(),
                String.format(Locale.ROOT, "U-ViT text: noise MSE, lr %.3g after %d warm-up steps, caption dropout 0.1 (empty caption)", o.lr(), w));
    }

    /** --autocast if given; else MicroDiT's stages autocast to bfloat16 on CUDA (none on the CPU), other recipes not at all. */
    private DType autocast(Device dev) {
        if (given("--autocast") || !(Presets.Family.of(presetOption.name()) == Presets.Family.MICRODIT))
            return autocast.equals("none") ? null : DType.valueOf(autocast.toUpperCase(Locale.ROOT));
        return dev.isCuda() ? DType.BFLOAT16 : null;
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult() != null && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** The text-model options mean nothing for class-conditional training on latents without captions. */
    private void checkClassOptions() {
        if (Presets.Family.of(presetOption.name()) == Presets.Family.MICRODIT || UViT.PRESETS.find(presetOption.name()).map(UViT.Config::textConditional).orElse(false))
            throw new IllegalArgumentException(presetOption.name() + " is conditioned on captions, but " + latents
                    + " holds no caption embeddings: extract them with extract-latents --captions --text-encoder ...");
        for (String o : List.of("--width", "--caption-width", "--stage", "--mask-ratio", "--warmup", "--ema-start"))
            if (given(o)) throw new IllegalArgumentException(o + " applies to text models on captioned latents (MicroDiT, U-ViT text presets)");
    }

    /**
     * --init's weights into {@code net} (before the trainer copies them to the EMA); a stage that
     * changes resolution keeps the position table computed for this one, as the authors' stage 3
     * ignores {@code pos_embed} when it loads the 256 px weights.
     */
    private void initFrom(DiffusionModel<?> net) {
        if (resumeOption.file() != null) throw new IllegalArgumentException("--init starts a run from weights; --resume continues one: pass one of them");
        boolean recompute = net instanceof MicroDiT && stage().recomputesPositions();
        dev.dit4j.models.Weights.load(net, init, recompute ? Set.of("pos_embed") : Set.of());
        System.out.printf("initialised from %s%s%n", init, recompute ? " (position table recomputed for pos_interp_scale " + stage().posInterpScale() + ")" : "");
    }

    /**
     * The text preset sized for the latents: channels x size x size, the captions' width (and,
     * for U-ViT, length), --depth/--width overrides; MicroDiT with its stage's pos_interp_scale.
     * Captions of another width than the model's are refused unless --caption-width asks for it.
     */
    private ModelConfig<? extends DiffusionModel<?>> textConfig(LatentFiles data, int channels, int size) {
        String model = presetOption.name();
        long[] caption = data.captionShape();
        String encoder = data.metadata().getOrDefault("text_encoder", "unknown");
        if (classes != null) throw new IllegalArgumentException("--classes applies to class-conditional presets; " + latents + " holds captions");
        if (captionWidth != null && captionWidth != caption[1])
            throw new IllegalArgumentException("--caption-width " + captionWidth + " but " + latents + " holds " + caption[1] + "-wide caption embeddings");
        return switch (Presets.Family.of(model)) {
            case MICRODIT -> {
                MicroDiT.Config c = MicroDiT.PRESETS.get(model).withInputSize(size).withInChannels(channels).withPosInterpScale(stage().posInterpScale());
                if (depth != null) c = c.withDepth(depth);
                if (width != null) c = c.withDim(width).withMixerDim(width);
                if (captionWidth != null) c = c.withCaptionChannels(captionWidth);
                requireWidth(model, c.captionChannels(), caption[1], encoder);
                if (size != stage().latentSize()) System.out.printf("note: stage %d is the authors' %d px (%dx%d latents at 8x); these latents are %dx%d%n",
                        stage().number(), stage().imageSize(), stage().latentSize(), stage().latentSize(), size, size);
                yield c;
            }
            case UVIT -> {
                UViT.Config c = UViT.PRESETS.get(model);
                if (!c.textConditional()) throw new IllegalArgumentException(model + " is class-conditional; captioned latents train a U-ViT text preset (e.g. mscoco_uvit_small) or MicroDiT");
                for (String o : List.of("--stage", "--mask-ratio"))
                    if (given(o)) throw new IllegalArgumentException(o + " applies to MicroDiT, not to " + model);
                c = c.withImgSize(size).withInChannels(channels);
                if (depth != null) c = c.withDepth(depth);
                if (width != null) c = c.withWidth(width, Math.max(1, width / 64));
                if (captionWidth != null) c = c.withContext(captionWidth, (int) caption[0]);
                requireWidth(model, c.contextDim(), caption[1], encoder);
                if (c.contextTokens() != caption[0])
                    throw new IllegalArgumentException(latents + " holds captions of " + caption[0] + " tokens, but " + model + " takes " + c.contextTokens()
                            + ": extract them with the tokenizer's " + c.contextTokens() + "-token context, or pass --caption-width to size the model to them");
                yield c;
            }
            default -> throw new IllegalArgumentException(model + " is class-conditional, but " + latents
                    + " holds caption embeddings: train MicroDiT or a U-ViT text preset on them (e.g. --model MicroDiT_Tiny_2 or mscoco_uvit_small)");
        };
    }

    private void requireWidth(String model, long takes, long has, String encoder) {
        if (takes != has)
            throw new IllegalArgumentException(latents + " holds " + has + "-wide caption embeddings (text encoder " + encoder + "), but " + model + " takes "
                    + takes + "-wide caption tokens: extract them with a text encoder of width " + takes + ", or pass --caption-width " + has + " to train a model on them");
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
                .resume(resumeOption.file()).dataParallel(job);
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
            case MICRODIT -> throw new IllegalArgumentException(model + " is conditioned on captions: train it on captioned latents (extract-latents --captions)");
        };
    }
}
