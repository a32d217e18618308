package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.EmaOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.MinutesOption;
import dev.dit4j.examples.options.ModelSizeOption;
import dev.dit4j.examples.options.ObjectiveOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.ResumeOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.eval.FidHook;
import dev.dit4j.models.family.Recipe;
import dev.dit4j.models.data.FashionMnist;
import dev.dit4j.models.data.Images;
import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.train.DataParallelJob;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main job: trains a small class-conditional DiT (or U-ViT, U-DiT) on Fashion-MNIST in pixel
 * space (1x32x32) within a time budget, samples 10 images per class with classifier-free
 * guidance, writes a sample grid and a loss plot, and scores the samples with a classifier
 * trained by dit4j too.
 */
@Command(name = "train-dit", aliases = "train", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.TrainDiT",
        description = "Train a small DiT, U-ViT or U-DiT on Fashion-MNIST, sample a class grid, report class accuracy.")
public final class TrainDiT implements Callable<Integer> {
    private static final int CLASSES = 10;

    @Option(names = "--model", description = "dit, uvit or udit (default ${DEFAULT-VALUE})")
    String model = "dit";

    @Mixin
    dev.dit4j.examples.options.DistTimeoutOption distTimeoutOption = new dev.dit4j.examples.options.DistTimeoutOption();

    @Mixin
    MinutesOption minutesOption = new MinutesOption(11);

    @Mixin
    BatchOption batchOption = new BatchOption(64);

    @Mixin
    LrOption lrOption = new LrOption(1e-3);

    @Mixin
    ModelSizeOption size = new ModelSizeOption(4, 128, 4);

    @Mixin
    EmaOption emaOption = new EmaOption(0.995);

    @Option(names = "--cfg", converter = Numbers.NonNegative.class, description = "guidance weight w, eps_u + w (eps_c - eps_u) (default ${DEFAULT-VALUE})")
    double cfgScale = 3.0;

    @Option(names = "--sample-steps", converter = Numbers.PositiveInt.class, description = "DDPM sampling steps (default ${DEFAULT-VALUE})")
    int sampleSteps = 100;

    @Option(names = "--dpm-steps", converter = Numbers.PositiveInt.class, description = "DPM-Solver++ steps for U-ViT (default ${DEFAULT-VALUE})")
    int dpmSteps = 50;

    @Mixin
    ObjectiveOption objectiveOption = new ObjectiveOption();

    @Option(names = "--fid-every", converter = Numbers.NonNegativeLong.class,
            description = "every K steps, the FID of 100 guided samples on the classifier's features, written to fid.csv and loss.png (0: off, the default)")
    long fidEvery = 0;

    @Mixin
    OutputDirOption outOption = OutputDirOption.derivedDefault(); // out/<model>-fashion, see TrainDiT.properties

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Mixin
    ResumeOption resumeOption = new ResumeOption();

    @Spec
    CommandSpec spec;

    /** The output folder: --out, else the default for --model. */
    private Path out;

    @Override
    public Integer call() throws java.io.IOException {
        StopSignals.install(); // SIGTERM / SIGINT: finish the step, write the checkpoint, exit 143 / 130
        long start = System.nanoTime();
        FashionModels kind = architecture();
        out = outOption.dir(() -> Path.of("out", model.toLowerCase(java.util.Locale.ROOT) + "-fashion"));
        checkOutputs();
        var config = kind.config(size);
        try (DataParallelJob job = deviceOption.joinDataParallel(distTimeoutOption.timeout())) {
            Device dev = job.device();
            try (DiffusionModel<?> net = config.create(dev, seedOption.seed()); DiffusionModel<?> ema = config.create(dev, seedOption.seed())) {
                resumeOption.check(net); // a checkpoint that cannot resume fails now, not after the classifier's minutes
                Files.createDirectories(out);
                Path data = FashionMnist.locate();
                try (TensorDataset train = FashionMnist.load(data, FashionMnist.Split.TRAIN);
                     TensorDataset test = FashionMnist.load(data, FashionMnist.Split.TEST)) {
                    if (job.isMain()) System.out.printf("data: %d training and %d test images from %s%n", train.size(), test.size(), data);
                    // Data-parallel ranks would wait in a collective while rank 0 trained the judge: it comes after training there.
                    java.util.function.DoubleSupplier judge = () -> trainJudge(train, test, dev, start);
                    double classifierAccuracy = job.worldSize() == 1 ? judge.getAsDouble() : Double.NaN;
                    trainAndSample(kind, net, ema, train, test, job.worldSize() == 1 ? () -> classifierAccuracy : judge, job);
                }
            }
            if (!job.isMain() || StopSignals.requested()) return StopSignals.exitCode(0);
        }
        List<Path> written = java.util.stream.Stream.of("samples.png", "loss.png", "checkpoint.safetensors")
                .map(out::resolve).filter(Files::exists).toList();
        System.out.printf("wrote %s in %.0f s total; live tensors %d%n", written.stream().map(Path::toString)
                .collect(java.util.stream.Collectors.joining(", ")), Progress.secondsSince(start), Torch.liveTensors());
        return StopSignals.exitCode(0);
    }

    private FashionModels architecture() {
        try {
            return FashionModels.valueOf(model.toUpperCase(java.util.Locale.ROOT).replace("-", ""));
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "unknown --model '" + model + "': expected dit, uvit or udit");
        }
    }

    /** The files this run writes must not replace --resume, except the checkpoint it continues. */
    private void checkOutputs() {
        OutputPaths.requireFolder(spec, "--out", out);
        for (String written : List.of("classifier.safetensors", "samples.png", "loss.png", "fid.csv")) {
            OutputPaths.requireDistinct(spec, "the output", out.resolve(written), "--resume", resumeOption.file());
        }
    }

    /** The judge: a classifier trained with dit4j on the real images; returns its test accuracy. */
    private double trainJudge(TensorDataset train, TensorDataset test, Device dev, long start) {
        long seed = seedOption.seed();
        try (ImageClassifier judge = ImageClassifier.create(1, CLASSES, dev, seed)) {
            judge.fit(train.images(), train.labels(), 1, 128, 1e-3, seed);
            double accuracy = judge.accuracy(test.images(), test.labels(), 500);
            System.out.printf("classifier: %.2f%% test accuracy (%.0f s)%n", 100 * accuracy, Progress.secondsSince(start));
            judge.save(out.resolve("classifier.safetensors"));
            return accuracy;
        }
    }

    /**
     * Trains (every rank of a data-parallel job, on its share of each global batch of --batch),
     * then, on rank 0 only, writes the loss chart and scores guided samples with the judge.
     */
    private void trainAndSample(FashionModels kind, DiffusionModel<?> net, DiffusionModel<?> emaModel,
                                TensorDataset train, TensorDataset test, java.util.function.DoubleSupplier judgeAccuracy, DataParallelJob job) {
        Device dev = job.device();
        int batch = batchOption.batch();
        int rankBatch;
        try {
            rankBatch = job.perRankBatch(batch);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (fidEvery > 0 && job.worldSize() > 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--fid-every needs the classifier before training, which a data-parallel run trains after it: run it in one process");
        }
        long seed = seedOption.seed();
        Recipe recipe = objectiveOption.applyTo(FashionModels.recipe(net.config()), net.config(), spec);
        Path fidFile = out.resolve("fid.csv");
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, emaModel, recipe.objective(),
                FashionModels.options(recipe, lrOption.lr(), emaOption.decay(), seed), job.group());
             BatchLoader loader = job.shard(BatchLoader.builder(train, rankBatch)).seed(seed).build();
             ImageClassifier fidJudge = fidEvery > 0 ? ImageClassifier.load(out.resolve("classifier.safetensors"), dev) : null) {
            Progress progress = new Progress(minutesOption.minutes() * 60);
            TrainingLoop.Builder loop = minutesOption.applyTo(TrainingLoop.builder());
            FidHook fidHook = null;
            if (fidJudge != null) {
                ClassifierFid fid = ClassifierFid.of(fidJudge, test.images(), test.labels(), CLASSES, 10);
                writeFid(fidFile, "step,fid\n", false);
                fidHook = new FidHook(fid.features(), fid.reference(),
                        step -> sample(kind, emaModel, recipe, dev, seed + 2, false), ClassifierFid.BATCH, r -> {
                            progress.note(String.format(java.util.Locale.ROOT, "step %d: %s", r.step(), fid.sampleLine(100, r.fid())));
                            writeFid(fidFile, String.format(java.util.Locale.ROOT, "%d,%.6f%n", r.step(), r.fid()), true);
                        });
                loop.every(fidEvery, fidHook);
            }
            TrainingLoop.Result run = loop.logEvery(25).batchSize(batch)
                    .checkpoint(out.resolve("checkpoint.safetensors"), 1000).metadata(recipe.metadata()).resume(resumeOption.file()).dataParallel(job)
                    .stopWhen(StopSignals::requested)
                    .listener(new TrainingLoop.Listener() {
                        @Override
                        public void started(long step) {
                            System.out.printf("model: %s, %s, %,d parameters%n", recipe.transport() == null ? kind.description
                                    : kind.description.replaceAll(" \\(.*", "") + " (" + recipe.description() + ")", net.describe(), net.parameterCount());
                        }

                        @Override
                        public void progress(TrainingLoop.Progress p) {
                            progress.update(p.step(), p.loss(), p.imagesPerSecond());
                        }
                    })
                    .build()
                    .run(trainer, loader, b -> trainer.trainStep(kind.encode(b.images().to(dev)), Conditioning.labels(b.labels().to(dev), CLASSES)));
            if (run.stopped()) { // no samples, no chart: the checkpoint is written, --resume continues
                if (job.isMain()) StopSignals.report("train", run.step(), out.resolve("checkpoint.safetensors"));
                return;
            }
            if (!job.isMain()) return;
            progress.done();
            double classifierAccuracy = judgeAccuracy.getAsDouble();
            System.out.printf("trained %d steps (%.1f epochs) in %.0f s: %.0f img/s%n", run.step(),
                    run.step() * (double) batch / train.size(), run.seconds(), run.imagesPerSecond());
            if (run.losses().isEmpty()) {
                System.out.println("no loss chart: the loss is read every 25 steps and the run made fewer");
            } else {
                LossPlot.write(out.resolve("loss.png"), kind.description.replaceAll(" \\(.*", "") + " on Fashion-MNIST: training loss",
                        run.losses().stream().mapToLong(TrainingLoop.Loss::step).toArray(), run.losses().stream().mapToDouble(TrainingLoop.Loss::value).toArray(),
                        fidHook == null ? null : LossPlot.Series.of("FID (classifier features, 100 samples)", fidHook.readings().stream()
                                .mapToLong(FidHook.Reading::step).toArray(),
                                fidHook.readings().stream().mapToDouble(FidHook.Reading::fid).toArray()));
            }
            if (fidHook != null) System.out.printf("wrote %d FID readings to %s%n", fidHook.readings().size(), fidFile);

            // 10 samples per class from the EMA weights, guided.
            try (TensorScope s = TensorScope.open()) {
                Tensor samples = sample(kind, emaModel, recipe, dev, seed + 1, true);
                Tensor y = sampleLabels(dev);
                Images.writeGrid(samples, 10, out.resolve("samples.png"));
                try (ImageClassifier judge = ImageClassifier.load(out.resolve("classifier.safetensors"), dev)) {
                    double accuracy = judge.accuracy(samples, y, 100);
                    System.out.printf("class accuracy of generated samples: %.1f%% (classifier test accuracy %.1f%%)%n",
                            100 * accuracy, 100 * classifierAccuracy);
                    ClassifierFid fid = ClassifierFid.of(judge, test.images(), test.labels(), CLASSES, 10);
                    System.out.println(fid.sampleLine(samples.size(0), fid.of(samples)));
                    System.out.println(fid.floorLine());
                }
            }
        }
    }

    /** The labels of the 100 samples: 10 of each class, in class order. */
    private static Tensor sampleLabels(Device dev) {
        long[] labels = new long[100];
        for (int i = 0; i < 100; i++) labels[i] = i / 10;
        return Tensor.of(labels, 100).to(dev);
    }

    /**
     * 100 guided samples (10 per class) of {@code model} in [-1, 1], from noise seeded {@code seed};
     * the model is in eval mode for it and back in its former mode after.
     */
    private Tensor sample(FashionModels kind, DiffusionModel<?> model, Recipe recipe, Device dev, long seed, boolean report) {
        boolean training = model.isTraining();
        model.eval();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.create(seed, dev)) {
            Tensor y = sampleLabels(dev);
            Tensor noise = Tensor.randn(model.config().sampleShape(100), DType.FLOAT32, dev, g);
            Tensor latents;
            try (Sampler sampler = FashionModels.sampler(recipe, sampleSteps, dpmSteps)) {
                latents = sampler.sample(model.guided(Conditioning.labels(y, CLASSES), cfgScale), noise, g);
                if (report) System.out.printf("sampled 100 images, %d guided network evaluations each%n", sampler.steps());
            }
            return s.keep(kind.decode(latents).clamp(-1, 1));
        } finally {
            model.train(training);
        }
    }

    private static void writeFid(Path file, String text, boolean append) {
        try {
            if (append) Files.writeString(file, text, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            else Files.writeString(file, text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
