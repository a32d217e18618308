package dev.dit4j.examples;

import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.ObjectiveOption;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.Images;
import dev.dit4j.models.data.LatentExtraction;
import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.family.Recipe;
import dev.dit4j.models.pipeline.DiffusionPipeline;
import dev.dit4j.models.pipeline.SampleRequest;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.sampling.SamplerSettings;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.models.vae.AutoencoderTraining;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Torch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * 512x512 latent diffusion end to end on real images, on a CPU: clip art from Debian's
 * openclipart-png is prepared as 512 px squares ({@link ClipArt}); a reduced-width AutoencoderKL
 * (f16, 8 latent channels: SD's architecture, narrower, one level deeper) is trained on crops of
 * them ({@link AutoencoderTraining}, as {@code train-vae}) and judged by held-out reconstruction
 * PSNR at 512 px; the images are encoded to 32x32x8 latents ({@link LatentExtraction}, as
 * {@code extract-latents}); a small DiT (one class) is trained on them with rectified flow,
 * predicting the clean latent, on a {@link TrainingLoop} (as {@code train-latents}); a
 * {@link DiffusionPipeline} draws a
 * 512x512 grid decoded by the trained autoencoder (as {@code sample}). The training phases are
 * time-budgeted. With a GPU, {@code --vae} (e.g. sd-vae-ft-ema) skips the autoencoder's training
 * and {@code --model} (e.g. DiT-XL/2, with {@code --objective default} for its own objective)
 * trains a real preset.
 */
@Command(name = "clipart512-demo", mixinStandardHelpOptions = true,
        description = "512x512 on real clip art (Debian's openclipart-png): train a small autoencoder, extract latents, train a latent DiT, sample a grid.")
public final class Clipart512Demo implements Callable<Integer> {
    /**
     * The latent model when --model is not given: DiT-S/8 at {@value #DEFAULT_DEPTH} blocks and
     * patch {@value #DEFAULT_PATCH}, the whole 32x32 latent in one token, trained to predict the
     * clean latent (on a CPU budget, smaller tokens give mosaics of pieces; see docs/latent-space.md).
     */
    static final String DEFAULT_MODEL = "DiT-S/8";
    static final int DEFAULT_DEPTH = 4, DEFAULT_PATCH = 32;

    @Option(names = "--images", description = "a folder of PNG clip art, any depth (default: $" + ClipArt.ENV + ", else Debian's "
            + ClipArt.DEBIAN_PACKAGE + " in /usr/share/openclipart/png)")
    Path images;

    @Option(names = "--count", converter = Numbers.PositiveInt.class, description = "images to prepare (default ${DEFAULT-VALUE})")
    int count = 100;

    @Option(names = "--size", converter = Numbers.PositiveInt.class, description = "image side in pixels (default ${DEFAULT-VALUE})")
    int size = 512;

    @Option(names = "--vae", description = "a pretrained autoencoder (diffusers or LDM layout, e.g. sd-vae-ft-ema): no autoencoder is trained")
    Path vae;

    @Option(names = "--model", description = "the latent model's preset (default: " + DEFAULT_MODEL + " at depth " + DEFAULT_DEPTH + ")")
    String model;

    @Option(names = "--depth", converter = Numbers.PositiveInt.class, description = "override the preset's depth (default: the preset's)")
    Integer depth;

    @Option(names = "--patch", converter = Numbers.PositiveInt.class,
            description = "a DiT preset's patch side in latent pixels (default: " + DEFAULT_PATCH + " with the default model, else the preset's)")
    Integer patch;

    @Option(names = "--vae-minutes", converter = Numbers.Positive.class, description = "autoencoder training budget (default ${DEFAULT-VALUE})")
    double vaeMinutes = 12;

    @Option(names = "--vae-steps", converter = Numbers.PositiveInt.class, description = "autoencoder steps at most (default ${DEFAULT-VALUE})")
    int vaeSteps = 1_000_000;

    @Option(names = "--vae-crop", converter = Numbers.PositiveInt.class, description = "autoencoder training crop side (default ${DEFAULT-VALUE})")
    int vaeCrop = 128;

    @Option(names = "--vae-batch", converter = Numbers.PositiveInt.class, description = "autoencoder batch (default ${DEFAULT-VALUE})")
    int vaeBatch = 8;

    @Option(names = "--vae-channels", converter = Numbers.PositiveInt.class, description = "autoencoder stem width, a multiple of 4 (GroupNorm has width / 4 groups; default ${DEFAULT-VALUE}; SD: 128)")
    int vaeChannels = 32;

    @Option(names = "--vae-ch-mult", split = ",", description = "autoencoder width multiple per level (default ${DEFAULT-VALUE}; 5 levels: f16, 4: f8)")
    List<Integer> vaeChannelMult = List.of(1, 1, 2, 2, 4);

    @Option(names = "--vae-z-channels", converter = Numbers.PositiveInt.class, description = "autoencoder latent channels (default ${DEFAULT-VALUE})")
    int vaeZChannels = 8;

    @Option(names = "--vae-lr", converter = Numbers.Positive.class, description = "autoencoder learning rate (default ${DEFAULT-VALUE})")
    double vaeLr = 5e-4;

    @Option(names = "--held-out", converter = Numbers.PositiveInt.class, description = "images the autoencoder never trains on, for PSNR (default ${DEFAULT-VALUE})")
    int heldOut = 8;

    @Option(names = "--minutes", converter = Numbers.Positive.class, description = "latent model training budget (default ${DEFAULT-VALUE})")
    double minutes = 9;

    @Option(names = "--steps", converter = Numbers.PositiveLong.class, description = "latent model steps at most (default ${DEFAULT-VALUE})")
    long steps = 1_000_000;

    @Option(names = "--batch", converter = Numbers.PositiveInt.class, description = "latent model batch (default ${DEFAULT-VALUE})")
    int batch = 8;

    @Option(names = "--lr", converter = Numbers.Positive.class, description = "latent model learning rate (default ${DEFAULT-VALUE}: DiT's 1e-4 is for 400K steps)")
    double lr = 5e-4;

    @Option(names = "--ema", converter = Numbers.Fraction.class, description = "EMA decay (default ${DEFAULT-VALUE}: a horizon of ~200 of the short run's steps)")
    double ema = 0.995;

    @Option(names = "--samples", converter = Numbers.PositiveInt.class, description = "images in the grid (default ${DEFAULT-VALUE})")
    int samples = 16;

    @Option(names = "--sample-steps", converter = Numbers.PositiveInt.class, description = "network evaluations: Heun's ODE for flow, DDIM steps otherwise (default ${DEFAULT-VALUE})")
    int sampleSteps = 50;

    @Mixin
    ObjectiveOption objectiveOption = new ObjectiveOption("flow", "data");

    @Spec
    CommandSpec spec;

    @Mixin
    OutputDirOption outOption = new OutputDirOption(Path.of("out", "clipart512-demo"));

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    /** Phase names and their seconds, for the summary. */
    private final List<String> timings = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        StopSignals.install(); // SIGTERM / SIGINT: finish the step, write the checkpoint, exit 143 / 130
        long start = System.nanoTime(), liveAtStart = Torch.liveTensors();
        Path source = images != null ? images : ClipArt.locate();
        Path out = outOption.dir();
        Files.createDirectories(out);
        String preset = model != null ? model : DEFAULT_MODEL;
        Integer blocks = depth != null ? depth : model == null ? DEFAULT_DEPTH : null;
        latentModel(preset, null); // a bad --model or --patch is refused before the autoencoder trains
        Device dev = deviceOption.deviceForAutoencoder();
        long seed = seedOption.seed();

        long t = header("prepare the clip art");
        Path imageDir = out.resolve("images");
        int prepared = prepare(source, imageDir);
        phase("prepare " + prepared + " images", t);

        Path vaeFile = vae;
        AutoencoderTraining.Result vaeRun = null;
        if (vaeFile == null) {
            t = header("train the autoencoder");
            AutoencoderReport report = new AutoencoderReport("autoencoder");
            vaeRun = AutoencoderTraining.train(imageDir, AutoencoderTraining.architecture(vaeChannels, vaeChannelMult, 1, null, vaeZChannels), out.resolve("vae"),
                    AutoencoderTraining.Options.defaults().withSize(size).withCrop(vaeCrop).withMinutes(vaeMinutes).withSteps(vaeSteps)
                            .withBatch(vaeBatch).withLr(vaeLr).withHeldOut(heldOut).withReportEvery(50).withPsnrEvery(Integer.MAX_VALUE)
                            .withSeed(seed).withDevice(dev), report);
            report.finished(vaeRun);
            vaeFile = vaeRun.file();
            phase("train the autoencoder (" + vaeRun.steps() + " steps)", t);
            if (StopSignals.requested()) {
                StopSignals.report("clipart512-demo", vaeRun.steps(), vaeRun.file());
                return StopSignals.exitCode(0);
            }
        }

        t = header("extract latents");
        Path latents = clear(out.resolve("latents")); // a new autoencoder: last run's shards would be taken as done
        extract(imageDir, vaeFile, latents, dev);
        phase("extract latents", t);

        t = header("train " + preset);
        Path checkpoint = clear(out.resolve("model")).resolve("checkpoint.safetensors");
        long trained = trainLatentModel(latents, preset, blocks, checkpoint, dev);
        phase("train " + preset + (blocks != null ? " depth " + blocks : "") + " (" + trained + " steps)", t);
        if (StopSignals.requested()) {
            StopSignals.report("clipart512-demo", trained, checkpoint);
            return StopSignals.exitCode(0);
        }

        t = header("sample");
        sample(checkpoint, preset, blocks, vaeFile, clear(out.resolve("samples")), dev);
        phase("sample " + samples + " images", t);

        List<String> summary = new ArrayList<>();
        summary.add(String.format(Locale.ROOT, "clipart512-demo: %d clip art images at %d px from %s", prepared, size, source));
        if (vaeRun != null) {
            summary.add(String.format(Locale.ROOT, "autoencoder: held-out reconstruction PSNR %.2f dB on %d images at %d px; latent scale %.5f",
                    vaeRun.heldOutPsnr(), heldOut, size, vaeRun.latentScale()));
        } else {
            summary.add("autoencoder: " + vae + " (not trained here)");
        }
        timings.forEach(line -> summary.add("  " + line));
        summary.add(String.format(Locale.ROOT, "total %.0f s; outputs in %s: images/, %slatents/, model/, samples/grid.png", Progress.secondsSince(start), out,
                vaeRun != null ? "vae/ (vae.safetensors, reconstructions.png), " : ""));
        summary.forEach(System.out::println);
        Files.write(out.resolve("summary.txt"), summary, StandardCharsets.UTF_8);
        System.out.printf("live tensors %d (%d at the start)%n", Torch.liveTensors(), liveAtStart);
        return 0;
    }

    /** The prepared images encoded by the autoencoder into latent shards (posterior means, fast-DiT's random flips). */
    private void extract(Path imageDir, Path vaeFile, Path latents, Device dev) throws InterruptedException {
        LatentExtraction extraction = LatentExtraction.of(imageDir, vaeFile, latents, LatentExtraction.Options.defaults().withImageSize(size)
                .withBatch(4).withSeed(seedOption.seed()).withDevice(dev));
        long[] shape = extraction.latentShape();
        System.out.printf(Locale.ROOT, "%d images -> %d x %d x %d latents (scale %s) in %s%n", extraction.data().size(), shape[0], shape[1], shape[2],
                extraction.autoencoder().scalingFactor(), latents);
        Progress progress = Progress.ofCount(extraction.data().size(), "images");
        extraction.run(new LatentExtraction.Listener() {
            @Override
            public void started(int encoded, int total) {
                progress.at(encoded);
            }

            @Override
            public void progress(int encoded, int total) {
                progress.at(encoded);
            }
        });
        progress.done();
    }

    /**
     * The latent model: the preset sized for the latents, one class, trained with its family's
     * recipe at this demo's settings (batch, learning rate, gradient clip 1, EMA) for --steps or
     * --minutes; the checkpoint written at the end. Returns the steps taken.
     */
    private long trainLatentModel(Path latents, String preset, Integer blocks, Path checkpoint, Device dev) {
        try (LatentFiles data = LatentFiles.open(latents, List.of())) {
            long[] shape = data.imageShape();
            DiffusionConfig<?> config = latentModel(preset, (int) shape[1]).resized((int) shape[0], (int) shape[1]).overridden(blocks, 1);
            Recipe recipe = objectiveOption.applyTo(config.family().recipe(config, false), config, spec);
            DiffusionTrainer.Options options = recipe.options().withLr(lr).withEmaDecay(ema).withGradClip(1).withSeed(seedOption.seed());
            try (DiffusionModel<?> net = config.create(dev, seedOption.seed()); DiffusionModel<?> average = config.create(dev, seedOption.seed());
                 DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, average, recipe.objective(), options);
                 BatchLoader loader = BatchLoader.builder(data, batch).seed(seedOption.seed()).pinMemory(dev.isCuda()).build()) {
                System.out.printf(Locale.ROOT, "model: %s, %,d parameters, on %d latents of %dx%dx%d%n", net.describe(), net.parameterCount(), data.size(),
                        shape[0], shape[1], shape[2]);
                return TrainingLoop.builder().steps(steps).minutes(minutes).logEvery(50).batchSize(batch).checkpoint(checkpoint).metadata(recipe.metadata())
                        .listener(p -> System.out.printf(Locale.ROOT, "step %d  loss %.4f  %.1f img/s%n", p.step(), p.loss(), p.imagesPerSecond()))
                        .stopWhen(StopSignals::requested)
                        .build()
                        .run(trainer, loader, b -> trainer.trainStep(b.images().toNonBlocking(dev), Conditioning.labels(b.labels().toNonBlocking(dev), 1)))
                        .step();
            }
        }
    }

    /**
     * The preset, at --patch for a DiT preset, for latents of {@code side} (null before they exist:
     * only the arguments are checked); refused when it is conditioned on captions or --patch does not apply.
     */
    private DiffusionConfig<?> latentModel(String preset, Integer side) {
        DiffusionConfig<?> config = DiffusionConfig.preset(preset);
        if (config.captionWidth() > 0) throw new IllegalArgumentException("--model " + preset + " is conditioned on captions; this demo trains a class model");
        int p = patch != null ? patch : model == null ? DEFAULT_PATCH : 0;
        if (p == 0) return config;
        if (!(config instanceof DiT.Config dit)) throw new IllegalArgumentException("--patch applies to DiT presets, not to " + preset);
        if (side != null && side % p != 0) throw new IllegalArgumentException("--patch " + p + " does not divide the latent side " + side);
        return dit.with(b -> b.patch(p).inputSize(side != null ? side : p)); // no side yet: one token, to check the rest
    }

    /**
     * --samples images of class 0 from the checkpoint's EMA without guidance, decoded by the
     * autoencoder: PNGs and grid.png. DDIM over --sample-steps; a transport's ODE with Heun steps
     * making as many network evaluations ({@link Recipe#heunTimePoints}).
     */
    private void sample(Path checkpoint, String preset, Integer blocks, Path vaeFile, Path dir, Device dev) {
        try (DiffusionPipeline pipeline = DiffusionPipeline.from(checkpoint).preset(preset).trainedWith(blocks, 1).device(dev).autoencoder(vaeFile).load()) {
            SampleRequest request = SampleRequest.of(samples).withBatch(8).withSeed(seedOption.seed()).withGuidance(1.0).withLabels(0);
            request = pipeline.recipe().transport() == null ? request.withSampler(SamplerKind.DDIM, sampleSteps)
                    : request.withSampler(SamplerKind.ODE, Recipe.heunTimePoints(sampleSteps)).withSettings(SamplerSettings.method("heun"));
            pipeline.check(request);
            System.out.printf(Locale.ROOT, "model: %s from %s; %s, %d steps, guidance %.2f; %d images%n", pipeline.model().config().name(), checkpoint,
                    pipeline.samplerKind(request).flag(), pipeline.steps(request), pipeline.guidance(request), request.count());
            new SampleRun(pipeline, request, new SampleFiles(dir), null, null).all();
        }
    }

    /**
     * Picks {@code count} drawings in a seeded order from {@code source} and writes them as an
     * ImageFolder of one class ({@code dir/clipart/00000.png, ...}), with {@code sources.txt}
     * naming each one's file; a folder that already holds this selection is reused.
     */
    private int prepare(Path source, Path dir) throws IOException, InterruptedException {
        List<Path> files = new ArrayList<>(ClipArt.list(source));
        Collections.shuffle(files, new Random(seedOption.seed()));
        String header = String.format(Locale.ROOT, "# %d images at %d px from %s, seed %d", count, size, source.toAbsolutePath().normalize(),
                seedOption.seed());
        Path list = dir.resolve("sources.txt");
        if (Files.exists(list) && Files.readAllLines(list, StandardCharsets.UTF_8).getFirst().equals(header)) {
            System.out.println("prepare: reusing the " + count + " images in " + dir);
            return count;
        }
        Path classDir = clear(dir).resolve("clipart");
        Files.createDirectories(classDir);
        Map<ClipArt.Skip, Integer> skipped = new EnumMap<>(ClipArt.Skip.class);
        List<String> lines = new ArrayList<>(List.of(header));
        int threads = Runtime.getRuntime().availableProcessors();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int from = 0; from < files.size() && lines.size() <= count; from += 4 * threads) {
                List<Future<ClipArt.Prepared>> wave = new ArrayList<>();
                for (Path f : files.subList(from, Math.min(files.size(), from + 4 * threads))) wave.add(pool.submit(() -> ClipArt.prepare(f, size)));
                for (Future<ClipArt.Prepared> w : wave) {
                    ClipArt.Prepared p = get(w);
                    if (p.image() == null) {
                        skipped.merge(p.skipped(), 1, Integer::sum);
                        if (p.skipped() == ClipArt.Skip.UNREADABLE) System.out.println("prepare: skipped " + p.source() + ": " + p.reason());
                    } else if (lines.size() <= count) {
                        String name = String.format("%05d.png", lines.size() - 1);
                        Images.write(p.image(), classDir.resolve(name));
                        lines.add(name + " " + source.relativize(p.source()));
                    }
                }
            }
        }
        int found = lines.size() - 1;
        System.out.printf("prepare: %d images from %d files in %s (skipped %s)%n", found, files.size(), source, skipped);
        if (found <= heldOut) {
            throw new IllegalArgumentException(source + " has only " + found + " usable drawings (PNG, longer side >= " + size + " px, at most 3:1, "
                    + "not blank); the demo needs more than --held-out " + heldOut);
        }
        if (found < count) System.out.printf("prepare: only %d of the %d images asked for%n", found, count);
        Files.write(list, lines, StandardCharsets.UTF_8); // last: its presence marks a complete folder
        return found;
    }

    private static ClipArt.Prepared get(Future<ClipArt.Prepared> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Empties (or creates) one of this demo's own output folders. */
    private static Path clear(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    if (!p.equals(dir)) Files.delete(p);
                }
            }
        }
        return Files.createDirectories(dir);
    }

    /** Announces a phase; returns its start. */
    private static long header(String what) {
        System.out.println();
        System.out.println("-- " + what);
        return System.nanoTime();
    }

    private void phase(String what, long since) {
        String line = String.format(Locale.ROOT, "%-52s %6.0f s", what, Progress.secondsSince(since));
        timings.add(line);
        System.out.println("== " + line);
    }
}
