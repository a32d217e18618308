package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.MinutesOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.vae.AutoencoderTraining;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Trains a (reduced-width) AutoencoderKL on an image folder with {@link AutoencoderTraining}: L1
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
    public Integer call() {
        StopSignals.install(); // SIGTERM / SIGINT: finish the step, write the weights, exit 143 / 130
        AutoencoderTraining.Options options = AutoencoderTraining.Options.defaults().withSize(size).withCrop(crop).withSteps(steps)
                .withMinutes(minutesOption.minutes()).withBatch(batchOption.batch()).withLr(lrOption.lr()).withKlWeight(klWeight).withHeldOut(heldOut)
                .withReportEvery(reportEvery).withPsnrEvery(psnrEvery != null ? psnrEvery : reportEvery).withSeed(seedOption.seed())
                .withDevice(deviceOption.deviceForAutoencoder());
        AutoencoderReport report = new AutoencoderReport("train-vae");
        report.finished(AutoencoderTraining.train(images, AutoencoderTraining.architecture(channels, channelMult, resBlocks, normGroups, zChannels),
                outOption.dir(), options, report));
        return StopSignals.exitCode(0);
    }
}
