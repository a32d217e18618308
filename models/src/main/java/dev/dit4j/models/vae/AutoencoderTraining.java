package dev.dit4j.models.vae;

import dev.dit4j.models.data.ImageFolder;
import dev.dit4j.models.data.Images;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Trains an {@link AutoencoderKL} on an image folder ({@link ImageFolder}: each image center-cropped
 * and resized to {@link Options#size}) with {@link AutoencoderTrainer} on a {@link TrainingLoop}:
 * L1 plus a small KL term, AdamW, on whole images or on random crops of them
 * ({@link Options#crop}, what fits a CPU at 512 px), for a number of steps or minutes. A seeded
 * part of the images is held out; their reconstruction PSNR at the full size is measured as
 * training goes and at the end, with a figure of originals over reconstructions. The weights are
 * written in the LDM layout ({@value #WEIGHTS_FILE}, read back by {@link AutoencoderKL#load}) with
 * a diffusers {@value #CONFIG_FILE} beside them giving the latent scale that brings the training
 * images' latents to unit variance (LDM's scale_by_std), which latent extraction and sampling use.
 *
 * <pre>{@code
 * AutoencoderTraining.Result r = AutoencoderTraining.train(images, AutoencoderTraining.architecture(32, List.of(1, 2, 2, 2), 1, null, 4),
 *         out, AutoencoderTraining.Options.defaults().withSteps(1000), AutoencoderTraining.Listener.NONE);
 * System.out.println(r.heldOutPsnr() + " dB, scale " + r.latentScale() + ", in " + r.file());
 * }</pre>
 */
public final class AutoencoderTraining {
    /** The files a run writes into its folder. */
    public static final String WEIGHTS_FILE = "vae.safetensors", CONFIG_FILE = "config.json", RECONSTRUCTIONS_FILE = "reconstructions.png";

    /**
     * How to train: images at {@code size} px, on random {@code crop} px windows (null: whole
     * images), up to {@code steps} steps and {@code minutes} (null: no time budget), {@code batch}
     * images a step, AdamW at {@code lr}, the KL term weighted {@code klWeight} (LDM's 1e-6),
     * {@code heldOut} images kept out of training for PSNR, a report every {@code reportEvery}
     * steps (and at the last), the held-out PSNR in every report at a multiple of
     * {@code psnrEvery} steps (and at the last), the weights and the split seeded by {@code seed}.
     */
    @RecordBuilder
    public record Options(int size, Integer crop, long steps, Double minutes, int batch, double lr, double klWeight, int heldOut,
                          int reportEvery, int psnrEvery, long seed, Device device) implements AutoencoderTrainingOptionsBuilder.With {
        public Options {
            if (size < 1) throw new IllegalArgumentException("image size must be positive, got " + size);
            if (crop != null && crop < 1) throw new IllegalArgumentException("crop must be positive, got " + crop);
            if (steps < 1) throw new IllegalArgumentException("steps must be positive, got " + steps);
            if (minutes != null && !(minutes > 0)) throw new IllegalArgumentException("minutes must be positive, got " + minutes);
            if (batch < 1) throw new IllegalArgumentException("batch must be positive, got " + batch);
            if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
            if (!(klWeight >= 0)) throw new IllegalArgumentException("KL weight must be >= 0, got " + klWeight);
            if (heldOut < 1) throw new IllegalArgumentException("held-out images must be at least 1, got " + heldOut);
            if (reportEvery < 1 || psnrEvery < 1) throw new IllegalArgumentException("report intervals must be positive, got " + reportEvery + " and " + psnrEvery);
            Objects.requireNonNull(device, "device");
        }

        /** 64 px whole images, 500 steps, batch 8, AdamW 1e-4, KL weight 1e-6, 8 held out, reports (with PSNR) every 50 steps, seed 0, the CPU. */
        public static Options defaults() {
            return new Options(64, null, 500, null, 8, 1e-4, 1e-6, 8, 50, 50, 0, Device.CPU);
        }

        /** The side trained on: the crop's, else the image size. */
        public int side() {
            return crop != null ? crop : size;
        }
    }

    /**
     * The run about to start: its training and held-out images, the image size and the side
     * trained on, the autoencoder's parameters and architecture.
     */
    public record Start(int trainImages, int heldOutImages, int size, int side, long parameters, AutoencoderKL.Config config) {}

    /**
     * A report after {@code step} of {@code steps}: the loss, the mean absolute error per pixel
     * value and the mean KL per image of that step, the held-out PSNR in dB ({@code NaN} where
     * not measured), the seconds since training started.
     */
    public record Report(long step, long steps, double loss, double l1, double kl, double heldOutPsnr, double seconds) {}

    /** Hears about a run. */
    public interface Listener {
        Listener NONE = new Listener() {};

        default void started(Start start) {}

        default void progress(Report report) {}

        /** Asked before every step: true stops the run at that step boundary, its weights written as at a normal end (a SIGTERM, say). */
        default boolean stopRequested() {
            return false;
        }
    }

    /**
     * How a run went: the steps taken, the held-out reconstruction PSNR in dB at the end, the
     * latent scale written to the config, the files written, the seconds of training (the final
     * evaluation and saving included), the architecture (its scale set).
     */
    public record Result(long steps, double heldOutPsnr, double latentScale, Path file, Path configFile, Path reconstructions, double seconds,
                         AutoencoderKL.Config config) {}

    /**
     * SD's AutoencoderKL at another width: stem {@code channels}, a width multiple per level
     * ({@code f = 2^(levels - 1)}), {@code resBlocks} per level, {@code zChannels} latent
     * channels, GroupNorm with {@code normGroups} groups (null: channels / 4, SD's 4 channels per group).
     */
    public static AutoencoderKL.Config architecture(int channels, List<Integer> channelMult, int resBlocks, Integer normGroups, int zChannels) {
        int groups = normGroups != null ? normGroups : Math.max(1, channels / 4);
        return AutoencoderKL.SD.with(b -> b.channels(channels).channelMult(channelMult).numResBlocks(resBlocks).zChannels(zChannels).embedDim(zChannels)
                .normGroups(groups)); // checked once, as a whole
    }

    /** Training images (the first in the seeded order) whose latents set the scale. */
    private static final int SCALE_IMAGES = 8;

    /**
     * Every step would otherwise decode its batch's PNGs again (tens of milliseconds each at
     * 512 px on a CPU core), so images are decoded once and kept when they fit in this many bytes
     * (100 at 512 px: 315 MB).
     */
    private static final long CACHE_BYTES = 1L << 30;

    private final ImageFolder data;
    private final Device device;
    /** Images already decoded, by index; null when the folder is too large to keep. */
    private final float[][] decoded;

    private AutoencoderTraining(ImageFolder data, Device device) {
        this.data = data;
        this.device = device;
        long[] shape = data.imageShape();
        this.decoded = (long) data.size() * shape[0] * shape[1] * shape[2] * Float.BYTES <= CACHE_BYTES ? new float[data.size()][] : null;
    }

    /**
     * Trains an autoencoder of {@code architecture} (its name becomes "AutoencoderKL trained on"
     * the folder's) on the images under {@code images} (class subfolders, PNG or JPEG) and writes
     * {@value #WEIGHTS_FILE}, {@value #CONFIG_FILE} and {@value #RECONSTRUCTIONS_FILE} into {@code out}.
     */
    public static Result train(Path images, AutoencoderKL.Config architecture, Path out, Options options, Listener listener) {
        ImageFolder data = ImageFolder.open(images, options.size());
        if (data.size() <= options.heldOut()) {
            throw new IllegalArgumentException(images + " has " + data.size() + " images; holding out " + options.heldOut() + " leaves none to train on");
        }
        AutoencoderKL.Config config = architecture.withName("AutoencoderKL trained on " + images.getFileName());
        int factor = config.downsampling(), side = options.side();
        if (options.size() % factor != 0) throw new IllegalArgumentException("image size " + options.size() + " is not divisible by " + factor);
        if (side > options.size() || side % factor != 0) {
            throw new IllegalArgumentException("crop " + side + " must be at most the image size " + options.size() + " and divisible by " + factor);
        }
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + out, e);
        }
        return new AutoencoderTraining(data, options.device()).run(config, out, options, listener);
    }

    private Result run(AutoencoderKL.Config config, Path out, Options o, Listener listener) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) order.add(i);
        Collections.shuffle(order, new Random(o.seed()));
        List<Integer> test = order.subList(0, o.heldOut()), train = order.subList(o.heldOut(), order.size());
        Random pick = new Random(o.seed() + 1);
        int side = o.side();
        try (AutoencoderKL vae = config.create(device, o.seed());
             AutoencoderTrainer trainer = new AutoencoderTrainer(vae, new AutoencoderTrainer.Options(o.lr(), o.klWeight(), 0));
             Generator g = Generator.create(o.seed(), device); TensorScope scope = TensorScope.open()) {
            Tensor heldOutImages = batch(test);
            listener.started(new Start(train.size(), test.size(), o.size(), side, vae.parameterCount(), config));
            long start = System.nanoTime();
            TrainingLoop.Builder loop = TrainingLoop.builder().steps(o.steps()).logEvery(o.reportEvery()).logFinalStep().batchSize(o.batch())
                    .stopWhen(listener::stopRequested);
            if (o.minutes() != null) loop.minutes(o.minutes());
            TrainingLoop.Result run = loop
                    .listener(p -> {
                        double psnr = p.step() % o.psnrEvery() == 0 || p.step() == o.steps()
                                ? AutoencoderTrainer.psnr(vae, heldOutImages, Chunking.slices(4)) : Double.NaN;
                        listener.progress(new Report(p.step(), o.steps(), p.terms()[0], p.terms()[1], p.terms()[2], psnr, p.seconds()));
                    })
                    .build()
                    .run(trainer, () -> {
                        List<Integer> indices = new ArrayList<>();
                        for (int i = 0; i < o.batch(); i++) indices.add(train.get(pick.nextInt(train.size())));
                        return crops(batch(indices), side, pick);
                    }, images -> trainer.trainStep(images, g));
            vae.eval();
            Path reconstructions = out.resolve(RECONSTRUCTIONS_FILE), file = out.resolve(WEIGHTS_FILE), configFile = out.resolve(CONFIG_FILE);
            double psnr;
            try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad(); DiagonalGaussian q = vae.encode(heldOutImages, Chunking.slices(4))) {
                Tensor recon = vae.decode(q.mean(), Chunking.slices(4)).clamp(-1, 1);
                psnr = AutoencoderTrainer.psnr(recon, heldOutImages);
                Images.writeGrid(Tensor.cat(List.of(heldOutImages, recon), 0).to(DType.FLOAT32), test.size(), reconstructions);
            }
            double scale = unitVarianceScale(vae, train);
            AutoencoderKL.Config saved = config.withScalingFactor(scale);
            Safetensors.save(file, vae.stateDict(), Map.of("config", saved.toString()));
            writeDiffusersConfig(configFile, saved);
            return new Result(run.step(), psnr, scale, file, configFile, reconstructions, (System.nanoTime() - start) / 1e9, saved);
        }
    }

    /**
     * LDM's scale_by_std: one over the standard deviation of the posterior means of up to
     * {@value #SCALE_IMAGES} training images, so that diffusion sees latents of unit variance.
     */
    private double unitVarianceScale(AutoencoderKL vae, List<Integer> train) {
        vae.eval();
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad();
             DiagonalGaussian q = vae.encode(batch(train.subList(0, Math.min(SCALE_IMAGES, train.size()))), Chunking.slices(4))) {
            return 1 / Math.sqrt(q.mean().var(new long[] {0, 1, 2, 3}, 1, false).item());
        }
    }

    /** The scale and the groups where diffusers keeps them (and {@link AutoencoderKL.Config#inferFrom} reads them). */
    private static void writeDiffusersConfig(Path file, AutoencoderKL.Config config) {
        try {
            Files.writeString(file, String.format(Locale.ROOT,
                    "{\"_class_name\": \"AutoencoderKL\", \"latent_channels\": %d, \"norm_num_groups\": %d, \"scaling_factor\": %s}%n",
                    config.embedDim(), config.normGroups(), Double.toString(config.scalingFactor())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
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

    /** Images {@code indices} as [N, 3, S, S] on the device, in the caller's scope. */
    private Tensor batch(List<Integer> indices) {
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
            return s.keep(Tensor.of(all, indices.size(), shape[0], shape[1], shape[2]).to(device));
        }
    }
}
