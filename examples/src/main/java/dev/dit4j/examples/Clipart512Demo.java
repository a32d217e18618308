package dev.dit4j.examples;

import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.data.Images;
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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * 512x512 latent diffusion end to end on real images, on a CPU: clip art from Debian's
 * openclipart-png is prepared as 512 px squares ({@link ClipArt}); a reduced-width AutoencoderKL
 * (f8, 4 latent channels: SD's architecture, narrower) is trained on crops of them with
 * {@code train-vae} and judged by held-out reconstruction PSNR at 512 px; the images are encoded
 * to 64x64x4 latents by {@code extract-latents}; a small DiT (one class) is trained on them by
 * {@code train-latents}; {@code sample} draws a 512x512 grid decoded by the trained autoencoder.
 * Each phase is those commands themselves, run in this process with the arguments printed; the
 * training phases are time-budgeted. With a GPU, {@code --vae} (e.g. sd-vae-ft-ema) skips the
 * autoencoder's training and {@code --model} (e.g. DiT-XL/2) trains a real preset.
 */
@Command(name = "clipart512-demo", mixinStandardHelpOptions = true,
        description = "512x512 on real clip art (Debian's openclipart-png): train a small autoencoder, extract latents, train a latent DiT, sample a grid.")
public final class Clipart512Demo implements Callable<Integer> {
    /** The latent model when --model is not given: DiT-S/4 at {@value #DEFAULT_DEPTH} blocks, 256 tokens of a 64x64 latent. */
    static final String DEFAULT_MODEL = "DiT-S/4";
    static final int DEFAULT_DEPTH = 2;

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

    @Option(names = "--vae-ch-mult", split = ",", description = "autoencoder width multiple per level (default ${DEFAULT-VALUE}; 4 levels: f8)")
    List<Integer> vaeChannelMult = List.of(1, 1, 2, 2);

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

    @Option(names = "--sample-steps", converter = Numbers.PositiveInt.class, description = "DDIM steps (default ${DEFAULT-VALUE})")
    int sampleSteps = 50;

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
        long start = System.nanoTime(), liveAtStart = Torch.liveTensors();
        Path source = images != null ? images : ClipArt.locate();
        Path out = outOption.dir();
        Files.createDirectories(out);
        String preset = model != null ? model : DEFAULT_MODEL;
        Integer blocks = depth != null ? depth : model == null ? DEFAULT_DEPTH : null;

        long t = System.nanoTime();
        Path imageDir = out.resolve("images");
        int prepared = prepare(source, imageDir);
        phase("prepare " + prepared + " images", t);

        Path vaeFile = vae;
        TrainVae vaeRun = null;
        if (vaeFile == null) {
            t = System.nanoTime();
            vaeRun = run(new TrainVae(), "--images", imageDir, "--size", size, "--crop", vaeCrop, "--minutes", vaeMinutes, "--steps", vaeSteps,
                    "--batch", vaeBatch, "--lr", vaeLr, "--channels", vaeChannels, "--ch-mult", join(vaeChannelMult), "--held-out", heldOut, "--report-every", 50, "--psnr-every", Integer.MAX_VALUE,
                    "--out", out.resolve("vae"));
            vaeFile = out.resolve("vae").resolve("vae.safetensors");
            phase("train the autoencoder (" + vaeRun.trainedSteps + " steps)", t);
        }

        t = System.nanoTime();
        Path latents = clear(out.resolve("latents")); // a new autoencoder: last run's shards would be taken as done
        run(new ExtractLatents(), "--images", imageDir, "--vae", vaeFile, "--image-size", size, "--batch", 4, "--out", latents);
        phase("extract latents", t);

        t = System.nanoTime();
        List<Object> train = new ArrayList<>(List.of("--latents", latents, "--model", preset, "--classes", 1, "--batch", batch, "--steps", steps,
                "--minutes", minutes, "--lr", lr, "--grad-clip", 1, "--ema", ema, "--log-every", 50, "--save-every", Integer.MAX_VALUE, "--out", clear(out.resolve("model"))));
        if (blocks != null) train.addAll(List.of("--depth", blocks));
        TrainLatents modelRun = run(new TrainLatents(), train.toArray());
        phase("train " + preset + (blocks != null ? " depth " + blocks : "") + " (" + modelRun.trainedSteps + " steps)", t);

        t = System.nanoTime();
        List<Object> sample = new ArrayList<>(List.of("--model", preset, "--weights", out.resolve("model").resolve("checkpoint.safetensors"),
                "--vae", vaeFile, "--classes", 1, "--labels", 0, "--count", samples, "--batch", 8, "--sampler", "ddim", "--steps", sampleSteps,
                "--cfg", 1, "--out", clear(out.resolve("samples"))));
        if (blocks != null) sample.addAll(List.of("--depth", blocks));
        run(new Sample(), sample.toArray());
        phase("sample " + samples + " images", t);

        List<String> summary = new ArrayList<>();
        summary.add(String.format(Locale.ROOT, "clipart512-demo: %d clip art images at %d px from %s", prepared, size, source));
        if (vaeRun != null) {
            summary.add(String.format(Locale.ROOT, "autoencoder: held-out reconstruction PSNR %.2f dB on %d images at %d px; latent scale %.5f",
                    vaeRun.heldOutPsnr, heldOut, size, vaeRun.latentScale));
        } else {
            summary.add("autoencoder: " + vae + " (not trained here)");
        }
        timings.forEach(line -> summary.add("  " + line));
        summary.add(String.format(Locale.ROOT, "total %.0f s; outputs in %s: images/, %slatents/, model/, samples/grid.png", seconds(start), out,
                vaeRun != null ? "vae/ (vae.safetensors, reconstructions.png), " : ""));
        summary.forEach(System.out::println);
        Files.write(out.resolve("summary.txt"), summary, StandardCharsets.UTF_8);
        System.out.printf("live tensors %d (%d at the start)%n", Torch.liveTensors(), liveAtStart);
        return 0;
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

    /** Runs another command of this program in this process, with this run's seed and device; its errors are this run's. */
    private <T extends Callable<Integer>> T run(T command, Object... args) throws Exception {
        List<String> all = new ArrayList<>();
        for (Object a : args) all.add(String.valueOf(a));
        all.addAll(List.of("--seed", Long.toString(seedOption.seed()), "--device", deviceOption.device().toString()));
        String name = command.getClass().getAnnotation(Command.class).name();
        System.out.println();
        System.out.println("$ ./dit4j " + name + " " + String.join(" ", all));
        new CommandLine(command).parseArgs(all.toArray(String[]::new));
        int code = command.call();
        if (code != 0) throw new IllegalStateException(name + " failed with exit code " + code);
        return command;
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

    private static String join(List<Integer> values) {
        return String.join(",", values.stream().map(String::valueOf).toList());
    }

    private void phase(String what, long since) {
        String line = String.format(Locale.ROOT, "%-52s %6.0f s", what, seconds(since));
        timings.add(line);
        System.out.println("== " + line);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
