package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.MinutesOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.data.ImageFolder;
import dev.dit4j.models.data.Images;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.models.vae.AutoencoderTrainer;
import dev.dit4j.models.vae.Chunking;
import dev.dit4j.models.vae.DiagonalGaussian;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Trains a (reduced-width) AutoencoderKL on an image folder with {@link AutoencoderTrainer}: L1
 * plus a small KL term, AdamW, on whole images or on random crops of them ({@code --crop}, what
 * fits a CPU at 512 px), for a number of steps or minutes. A seeded part of the images is held
 * out; their reconstruction PSNR at the full size is reported as training goes and at the end,
 * with a figure of originals over reconstructions. The weights are written in the LDM layout, so
 * {@code AutoencoderKL.load} (and {@code parity --model sd-vae}) read them back, with a diffusers
 * config.json beside them giving the latent scale that brings the training images' latents to
 * unit variance (LDM's scale_by_std), which {@code extract-latents} and {@code sample} then use.
 */
@Command(name = "train-vae", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.TrainVae",
        description = "Train an AutoencoderKL (L1 + KL) on an image folder; report held-out reconstruction PSNR.")
public final class TrainVae implements Callable<Integer> {
    @Option(names = "--images", required = true, description = "image folder (class subfolders, PNG or JPEG)")
    Path images;

    @Option(names = "--size", converter = Numbers.PositiveInt.class, description = "images are center-cropped to this (default ${DEFAULT-VALUE})")
    int size = 64;

    @Option(names = "--steps", converter = Numbers.PositiveInt.class, description = "training steps (default ${DEFAULT-VALUE})")
    int steps = 500;

    @Mixin
    MinutesOption minutesOption = MinutesOption.none(); // worded in TrainVae.properties

    @Option(names = "--crop", converter = Numbers.PositiveInt.class, description = "train on random crops of this side (default: whole images)")
    Integer crop;

    @Mixin
    BatchOption batchOption = new BatchOption(8);

    @Mixin
    LrOption lrOption = new LrOption(1e-4);

    @Option(names = "--kl-weight", converter = Numbers.NonNegative.class, description = "weight of the KL term (default ${DEFAULT-VALUE}, LDM's)")
    double klWeight = 1e-6;

    @Option(names = "--channels", converter = Numbers.PositiveInt.class, description = "stem width, a multiple of GroupNorm's groups (default ${DEFAULT-VALUE}; SD: 128)")
    int channels = 32;

    @Option(names = "--ch-mult", split = ",", description = "width multiple per level (default ${DEFAULT-VALUE}; f = 2^(levels-1))")
    List<Integer> channelMult = List.of(1, 2, 2, 2);

    @Option(names = "--res-blocks", converter = Numbers.PositiveInt.class, description = "residual blocks per level (default ${DEFAULT-VALUE}; SD: 2)")
    int resBlocks = 1;

    @Option(names = "--norm-groups", converter = Numbers.PositiveInt.class,
            description = "GroupNorm's groups (default: the stem width / 4, SD's 4 channels per group; SD: 32)")
    Integer normGroups;

    @Option(names = "--z-channels", converter = Numbers.PositiveInt.class, description = "latent channels (default ${DEFAULT-VALUE})")
    int zChannels = 4;

    @Option(names = "--held-out", converter = Numbers.PositiveInt.class, description = "images kept out of training for PSNR (default ${DEFAULT-VALUE})")
    int heldOut = 8;

    @Option(names = "--report-every", converter = Numbers.PositiveInt.class, description = "steps between reports (default ${DEFAULT-VALUE})")
    int reportEvery = 50;

    @Option(names = "--psnr-every", converter = Numbers.PositiveInt.class, description = "steps between held-out PSNRs in the reports (default: every report)")
    Integer psnrEvery;

    @Mixin
    OutputDirOption outOption = new OutputDirOption(Path.of("out/vae"));

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Override
    public Integer call() throws Exception {
        ImageFolder data = ImageFolder.open(images, size);
        if (data.size() <= heldOut) throw new IllegalArgumentException(images + " has " + data.size() + " images; --held-out " + heldOut + " leaves none to train on");
        AutoencoderKL.Config config = AutoencoderKL.SD.withName("AutoencoderKL trained on " + images.getFileName()).withChannels(channels)
                .withChannelMult(channelMult).withNumResBlocks(resBlocks).withZChannels(zChannels).withEmbedDim(zChannels)
                .withNormGroups(normGroups != null ? normGroups : Math.max(1, channels / 4));
        if (size % config.downsampling() != 0) throw new IllegalArgumentException("--size " + size + " is not divisible by " + config.downsampling());
        int side = crop != null ? crop : size;
        if (side > size || side % config.downsampling() != 0) {
            throw new IllegalArgumentException("--crop " + side + " must be at most --size " + size + " and divisible by " + config.downsampling());
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) order.add(i);
        Collections.shuffle(order, new Random(seedOption.seed()));
        List<Integer> test = order.subList(0, heldOut), train = order.subList(heldOut, order.size());
        Device dev = deviceOption.deviceForAutoencoder();
        Path out = outOption.dir();
        Files.createDirectories(out);
        Random pick = new Random(seedOption.seed() + 1);
        long[] shape = data.imageShape();
        decoded = (long) data.size() * shape[0] * shape[1] * shape[2] * Float.BYTES <= CACHE_BYTES ? new float[data.size()][] : null;
        try (AutoencoderKL vae = config.create(dev, seedOption.seed()); AutoencoderTrainer trainer = new AutoencoderTrainer(vae,
                new AutoencoderTrainer.Options(lrOption.lr(), klWeight, 0)); Generator g = Generator.create(seedOption.seed(), dev);
             TensorScope scope = TensorScope.open()) {
            Tensor heldOutImages = batch(data, test, dev);
            System.out.printf(Locale.ROOT, "train-vae: %d training and %d held-out images at %d px%s, %,d parameters, f%d, %d latent channels%n",
                    train.size(), test.size(), size, side < size ? " (trained on " + side + " px crops)" : "", vae.parameterCount(),
                    config.downsampling(), zChannels);
            int psnrSteps = psnrEvery != null ? psnrEvery : reportEvery;
            long start = System.nanoTime();
            TrainingLoop.Result run = minutesOption.applyTo(TrainingLoop.builder().steps(steps)).logEvery(reportEvery).logFinalStep()
                    .batchSize(batchOption.batch())
                    .listener(p -> {
                        String psnr = p.step() % psnrSteps == 0 || p.step() == steps ? String.format(Locale.ROOT,
                                ", held-out PSNR %.2f dB", AutoencoderTrainer.psnr(vae, heldOutImages, Chunking.slices(4))) : "";
                        System.out.printf(Locale.ROOT, "step %d/%d: loss %.2f, L1 %.4f, KL %.1f%s, %.1f s%n", p.step(), steps, p.terms()[0], p.terms()[1],
                                p.terms()[2], psnr, Progress.secondsSince(start));
                    })
                    .build()
                    .run(trainer, () -> {
                        List<Integer> indices = new ArrayList<>();
                        for (int i = 0; i < batchOption.batch(); i++) indices.add(train.get(pick.nextInt(train.size())));
                        return crops(batch(data, indices, dev), side, pick);
                    }, images -> trainer.trainStep(images, g));
            trainedSteps = (int) run.step();
            vae.eval();
            double psnr;
            try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad(); DiagonalGaussian q = vae.encode(heldOutImages, Chunking.slices(4))) {
                Tensor recon = vae.decode(q.mean(), Chunking.slices(4)).clamp(-1, 1);
                psnr = AutoencoderTrainer.psnr(recon, heldOutImages);
                Images.writeGrid(Tensor.cat(List.of(heldOutImages, recon), 0).to(DType.FLOAT32), test.size(), out.resolve("reconstructions.png"));
            }
            heldOutPsnr = psnr;
            latentScale = unitVarianceScale(vae, data, train, dev);
            Safetensors.save(out.resolve("vae.safetensors"), vae.stateDict(), Map.of("config", config.withScalingFactor(latentScale).toString()));
            writeDiffusersConfig(out.resolve("config.json"), latentScale, config);
            System.out.printf(Locale.ROOT, "train-vae: %d steps in %.0f s; held-out reconstruction PSNR %.2f dB; latent scale %.5f; wrote %s and %s%n",
                    trainedSteps, Progress.secondsSince(start), psnr, latentScale, out.resolve("vae.safetensors"), out.resolve("reconstructions.png"));
        }
        return 0;
    }

    /** Set by a run: the steps taken, the held-out PSNR in dB and the latent scale written to config.json. */
    int trainedSteps;
    double heldOutPsnr;
    double latentScale;

    /** Training images (the first in the seeded order) whose latents set the scale. */
    private static final int SCALE_IMAGES = 8;

    /**
     * LDM's scale_by_std: one over the standard deviation of the posterior means of up to
     * {@value #SCALE_IMAGES} training images, so that diffusion sees latents of unit variance.
     */
    private double unitVarianceScale(AutoencoderKL vae, ImageFolder data, List<Integer> train, Device dev) {
        vae.eval();
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad();
             DiagonalGaussian q = vae.encode(batch(data, train.subList(0, Math.min(SCALE_IMAGES, train.size())), dev), Chunking.slices(4))) {
            return 1 / Math.sqrt(q.mean().var(new long[] {0, 1, 2, 3}, 1, false).item());
        }
    }

    /** The scale and the groups where diffusers keeps them (and {@code AutoencoderKL.Config.inferFrom} reads them). */
    private static void writeDiffusersConfig(Path file, double scale, AutoencoderKL.Config config) throws java.io.IOException {
        Files.writeString(file, String.format(Locale.ROOT,
                "{\"_class_name\": \"AutoencoderKL\", \"latent_channels\": %d, \"norm_num_groups\": %d, \"scaling_factor\": %s}%n",
                config.embedDim(), config.normGroups(), Double.toString(scale)));
    }

    /** A random {@code side} x {@code side} window of each image (the images themselves when they are that size). */
    private static Tensor crops(Tensor images, int side, Random pick) {
        long size = images.size(2);
        if (side == size) return images;
        List<Tensor> parts = new ArrayList<>();
        for (int i = 0; i < images.size(0); i++) {
            int top = pick.nextInt((int) size - side + 1), left = pick.nextInt((int) size - side + 1);
            parts.add(images.narrow(0, i, 1).narrow(2, top, side).narrow(3, left, side));
        }
        return Tensor.cat(parts, 0);
    }

    /** Images already decoded, by index; null when the folder is too large to keep ({@value #CACHE_BYTES} bytes at most). */
    private float[][] decoded;

    /**
     * Every step would otherwise decode its batch's PNGs again (tens of milliseconds each at
     * 512 px on a CPU core), so images are decoded once and kept when they fit in this many bytes
     * (100 at 512 px: 315 MB).
     */
    private static final long CACHE_BYTES = 1L << 30;

    private Tensor batch(ImageFolder data, List<Integer> indices, Device dev) {
        long[] shape = data.imageShape();
        int length = (int) (shape[0] * shape[1] * shape[2]);
        float[] all = new float[indices.size() * length];
        for (int i = 0; i < indices.size(); i++) {
            int index = indices.get(i);
            float[] one = decoded != null ? decoded[index] : null;
            if (one == null) {
                one = new float[length];
                data.readImage(index, one);
                if (decoded != null) decoded[index] = one;
            }
            System.arraycopy(one, 0, all, i * length, length);
        }
        try (TensorScope s = TensorScope.open()) {
            return s.keep(Tensor.of(all, indices.size(), shape[0], shape[1], shape[2]).to(dev));
        }
    }
}
