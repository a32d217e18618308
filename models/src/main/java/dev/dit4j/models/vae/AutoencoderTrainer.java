package dev.dit4j.models.vae;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.optim.AdamW;
import java.util.List;

/**
 * Trains an {@link AutoencoderKL} as latent diffusion's first stage without its GAN and LPIPS
 * terms: the L1 reconstruction of a posterior sample, summed over each image's pixels, plus
 * {@code klWeight} times the posterior's KL to N(0, I), both averaged over the batch (LDM's
 * LPIPSWithDiscriminator with its learned log-variance at 0, perceptual and GAN weights 0);
 * AdamW on every parameter.
 */
public final class AutoencoderTrainer implements AutoCloseable {
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

    public AutoencoderTrainer(AutoencoderKL vae, Options options) {
        this.vae = vae;
        this.options = options;
        this.params = vae.parameters();
        this.optimizer = AdamW.of(params, options.lr(), options.weightDecay());
    }

    /** One optimisation step on images [N, 3, H, W] in [-1, 1]; {@code gen} draws the posterior sample. */
    public Losses step(Tensor images, Generator gen) {
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
                return new Losses(loss.item(), l1.item() * n / images.numel(), kl.item());
            }
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
