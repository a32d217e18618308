package dev.dit4j.examples;

import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.DiT;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.train.AdmObjective;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.VpSdeObjective;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;

/**
 * The three architectures at Fashion-MNIST size (1x32x32, 10 classes), each trained and sampled
 * the way its authors do: DiT and U-DiT with the ADM hybrid loss and DDPM; U-ViT, like its authors'
 * pixel-space models (CIFAR-10, CelebA), with noise MSE on the continuous VP-SDE, sampled with
 * DPM-Solver++ on the same schedule. Sizes are chosen to train in minutes on a CPU.
 *
 * <p>U-DiT has no patch embedding (a token per latent pixel, as on SD latents), which at 32x32
 * costs it ~15x DiT's time per image on a CPU. It therefore works, like on SD latents, on a
 * lossless 4x16x16 "latent": the image space-to-depth rearranged (pixel unshuffle by 2).
 */
enum FashionModels {
    DIT("DiT (hybrid loss, DDPM)"),
    UVIT("U-ViT (noise MSE on the continuous VP-SDE, DPM-Solver++)"),
    UDIT("U-DiT (hybrid loss, DDPM)");

    final String description;

    FashionModels(String description) {
        this.description = description;
    }

    /** Sizes a user can change from the command line; unused ones are ignored by a model. */
    record Size(int depth, int hidden, int patch) {}

    /** The network at {@code size} for Fashion-MNIST. */
    ModelConfig<? extends DiffusionModel<?>> config(Size size) {
        return switch (this) {
            case DIT -> dit(size);
            case UVIT -> uvit(size);
            case UDIT -> udit(size);
        };
    }

    /** Image [N, 1, 32, 32] to the model's input space. */
    Tensor encode(Tensor images) {
        return this == UDIT ? Functional.pixelUnshuffle(images, 2) : images;
    }

    /** The model's space back to images [N, 1, 32, 32]. */
    Tensor decode(Tensor latents) {
        return this == UDIT ? Functional.pixelShuffle(latents, 2) : latents;
    }

    /** Shape of n model-space samples. */
    long[] sampleShape(long n) {
        return this == UDIT ? new long[] {n, 4, 16, 16} : new long[] {n, 1, 32, 32};
    }

    static DiT.Config dit(Size s) {
        return new DiT.Config("DiT-fashion", s.depth(), s.hidden(), s.hidden() / 64, s.patch(), 4.0, 1, 32, 10, true, 0.1);
    }

    /** U-ViT with depth d: d/2 in-blocks, a mid block, d/2 out-blocks with long skips; final 3x3 conv. */
    static UViT.Config uvit(Size s) {
        return UViT.CIFAR10_S_2.withName("U-ViT-fashion").withImgSize(32).withPatch(s.patch()).withInChannels(1)
                .withWidth(s.hidden(), s.hidden() / 64).withDepth(s.depth()).withClasses(10, true).withLabelDropout(0.1);
    }

    /** U-DiT at stage-1 width hidden/4 on the 4x16x16 input, one block per stage except two at the latent stage. */
    static UDiT.Config udit(Size s) {
        return UDiT.S.withName("U-DiT-fashion").withBaseWidth(s.hidden() / 4, 2).withDepths(1, 1, 2, 1, 1).withInChannels(4).withNumClasses(10);
    }

    TrainingObjective objective() {
        return this == UVIT ? VpSdeObjective.uvit() : new AdmObjective();
    }

    /** AdamW settings: the example's learning rate and betas (0.9, 0.999); U-ViT keeps its weight decay 0.03. */
    DiffusionTrainer.Options options(double lr, double emaDecay, long seed) {
        DiffusionTrainer.Options o = DiffusionTrainer.Options.dit().withLr(lr).withEmaDecay(emaDecay).withSeed(seed);
        return this == UVIT ? o.withWeightDecay(0.03) : o;
    }

    /** The authors' sampler: DDPM over respaced steps for DiT/U-DiT, DPM-Solver++ (singlestep order 3) for U-ViT. */
    Sampler sampler(int ddpmSteps, int dpmSteps) {
        return this == UVIT ? DpmSolverPP.forUViTContinuous(dpmSteps) : GaussianSampler.ddpm(ddpmSteps);
    }
}
