package dev.dit4j.models.vae;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.models.Weights;
import dev.dit4j.models.train.Trainable;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.optim.AdamW;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains an {@link AutoencoderKL} as latent diffusion's first stage without its GAN and LPIPS
 * terms: the L1 reconstruction of a posterior sample, summed over each image's pixels, plus
 * {@code klWeight} times the posterior's KL to N(0, I), both averaged over the batch (LDM's
 * LPIPSWithDiscriminator with its learned log-variance at 0, perceptual and GAN weights 0);
 * AdamW on every parameter. A {@link dev.dit4j.models.train.TrainingLoop} drives it with
 * {@link #trainStep}; its checkpoints hold the weights, the optimizer and the step (the
 * posterior's generator is the caller's).
 */
public final class AutoencoderTrainer implements Trainable, AutoCloseable {
    /** LDM's KL-f8 configs use klWeight 1e-6 and Adam at 4.5e-6 per image of batch. */
    public record Options(double lr, double klWeight, double weightDecay) {
        public Options {
            if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
            if (!(klWeight >= 0)) throw new IllegalArgumentException("KL weight must be >= 0, got " + klWeight);
        }

        public static Options defaults() {
            return new Options(1e-4, 1e-6, 0);
        }
    }

    /** One step's losses: the total, the mean absolute error per pixel value, the mean KL per image. */
    public record Losses(double total, double l1, double kl) {}

    private final AutoencoderKL vae;
    private final Options options;
    private final List<Tensor> params;
    private final AdamW optimizer;
    private long step;

    public AutoencoderTrainer(AutoencoderKL vae, Options options) {
        this.vae = vae;
        this.options = options;
        this.params = vae.parameters();
        this.optimizer = AdamW.of(params, options.lr(), options.weightDecay());
    }

    /** One optimisation step on images [N, 3, H, W] in [-1, 1]; {@code gen} draws the posterior sample. Reads the losses back. */
    public Losses step(Tensor images, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            double[] l = trainStep(images, gen).toDoubleArray();
            return new Losses(l[0], l[1], l[2]);
        }
    }

    /**
     * {@link #step(Tensor, Generator)} without reading anything back: returns the losses on the
     * device, float32 [3]: the total, the mean absolute error per pixel value, the mean KL per image.
     */
    public Tensor trainStep(Tensor images, Generator gen) {
        vae.train(true);
        try (TensorScope s = TensorScope.open(); var grad = Autograd.enableGrad()) {
            DiagonalGaussian q = new DiagonalGaussian(vae.encodeMoments(images));
            try (q) {
                Tensor recon = vae.decode(q.sample(gen));
                long n = images.size(0);
                Tensor l1 = recon.sub(images).abs().sum().div(n);
                Tensor kl = q.kl().mean();
                Tensor loss = l1.add(kl.mul(options.klWeight()));
                vae.zeroGrad();
                loss.backward();
                optimizer.step();
                step++;
                return s.keep(Tensor.stack(List.of(loss.detach(), l1.detach().mul(n / (double) images.numel()), kl.detach()), 0));
            }
        }
    }

    @Override
    public long step() {
        return step;
    }

    /** Writes the weights ("model."), the optimizer ("opt.") and the step atomically. */
    @Override
    public void save(Path file, Map<String, String> metadata) {
        Map<String, Tensor> all = new LinkedHashMap<>();
        vae.stateDict().forEach((k, v) -> all.put("model." + k, v));
        optimizer.stateDict().forEach((k, v) -> all.put("opt." + k, v));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("step", Long.toString(step));
        meta.put("config", vae.config().toString());
        Safetensors.save(file, all, meta);
    }

    @Override
    public Map<String, String> load(Path file) {
        try (Safetensors.Contents c = Safetensors.read(file)) {
            long saved;
            try {
                saved = Long.parseLong(c.metadata().getOrDefault("step", ""));
                if (saved < 0) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new CheckpointException("checkpoint " + file + " has no valid 'step' metadata, got '" + c.metadata().get("step") + "'");
            }
            vae.loadStateDict(Weights.section(c.tensors(), "model."));
            optimizer.loadStateDict(Weights.section(c.tensors(), "opt."));
            step = saved;
            return c.metadata();
        }
    }

    /** Reconstruction PSNR in dB of images in [-1, 1] through the posterior mean, the output clamped to [-1, 1]. */
    public static double psnr(AutoencoderKL vae, Tensor images, Chunking chunking) {
        vae.eval();
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad(); DiagonalGaussian q = vae.encode(images, chunking)) {
            return psnr(vae.decode(q.mean(), chunking).clamp(-1, 1), images);
        }
    }

    /** PSNR in dB of {@code reconstructed} against {@code images}, both in [-1, 1]. */
    public static double psnr(Tensor reconstructed, Tensor images) {
        try (TensorScope s = TensorScope.open()) {
            double mse = reconstructed.sub(images).square().mean().item();
            return 10 * Math.log10(4 / mse); // the peak-to-peak range is 2
        }
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
