package dev.dit4j.examples;

import dev.dit4j.examples.options.ModelSizeOption;
import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.models.family.Recipe;
import dev.dit4j.models.sampling.SamplerSettings;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Tensor;
import java.util.function.Function;

/**
 * The main job's three architectures at Fashion-MNIST size (1x32x32, 10 classes), sized to train
 * in minutes on a CPU, each trained and sampled with its family's recipe in pixel space: DiT and
 * U-DiT with the ADM hybrid loss and DDPM; U-ViT, like its authors' pixel-space models (CIFAR-10,
 * CelebA), with noise MSE on the continuous VP-SDE, sampled with DPM-Solver++.
 *
 * <p>U-DiT has no patch embedding (a token per latent pixel, as on SD latents), which at 32x32
 * costs it ~15x DiT's time per image on a CPU. It therefore works, like on SD latents, on a
 * lossless 4x16x16 "latent": the image space-to-depth rearranged (pixel unshuffle by 2).
 */
enum FashionModels {
    DIT("DiT (hybrid loss, DDPM)", 1, s -> new DiT.Config("DiT-fashion", s.depth(), s.hidden(), Math.max(1, s.hidden() / 64), s.patch(), 4.0, 1, 32, 10, true, 0.1)),
    /** U-ViT with depth d: d/2 in-blocks, a mid block, d/2 out-blocks with long skips; final 3x3 conv. */
    UVIT("U-ViT (noise MSE on the continuous VP-SDE, DPM-Solver++)", 1, s -> UViT.CIFAR10_S_2.withName("U-ViT-fashion").withImgSize(32)
            .withPatch(s.patch()).withInChannels(1).withWidth(s.hidden(), Math.max(1, s.hidden() / 64)).withDepth(s.depth()).withClasses(10, true).withLabelDropout(0.1)),
    /** U-DiT at stage-1 width hidden/4 on the 4x16x16 input, one block per stage except two at the latent stage. */
    UDIT("U-DiT (hybrid loss, DDPM)", 2, s -> UDiT.S.withName("U-DiT-fashion").withBaseWidth(s.hidden() / 4, 2).withDepths(1, 1, 2, 1, 1)
            .withInChannels(4).withInputSize(16).withNumClasses(10));

    final String description;
    /** The model sees the image space-to-depth rearranged by this factor (1: the image itself). */
    private final int unshuffle;
    private final Function<ModelSizeOption, DiffusionConfig<?>> configs;

    FashionModels(String description, int unshuffle, Function<ModelSizeOption, DiffusionConfig<?>> configs) {
        this.description = description;
        this.unshuffle = unshuffle;
        this.configs = configs;
    }

    /** The network at {@code size} for Fashion-MNIST (a size it has no knob for is ignored). */
    DiffusionConfig<?> config(ModelSizeOption size) {
        return configs.apply(size);
    }

    /** Image [N, 1, 32, 32] to the model's input space. */
    Tensor encode(Tensor images) {
        return unshuffle == 1 ? images : Functional.pixelUnshuffle(images, unshuffle);
    }

    /** The model's space back to images [N, 1, 32, 32]. */
    Tensor decode(Tensor samples) {
        return unshuffle == 1 ? samples : Functional.pixelShuffle(samples, unshuffle);
    }

    /** The family's recipe for {@code config} in pixel space. */
    static Recipe recipe(DiffusionConfig<?> config) {
        return config.family().recipe(config, true);
    }

    /** The recipe's AdamW with the example's learning rate, EMA and betas (0.9, 0.999) (U-ViT keeps its weight decay 0.03). */
    static DiffusionTrainer.Options options(Recipe recipe, double lr, double emaDecay, long seed) {
        return recipe.options().withLr(lr).withEmaDecay(emaDecay).withSeed(seed).withBetas(0.9, 0.999);
    }

    /**
     * The recipe's sampler: DDPM over {@code ddpmSteps}, DPM-Solver++ over {@code dpmSteps}; a
     * transport's ODE with Heun steps making as many network evaluations as DDPM's
     * ({@link Recipe#heunTimePoints}).
     */
    static Sampler sampler(Recipe recipe, int ddpmSteps, int dpmSteps) {
        if (recipe.sampler() == SamplerKind.ODE) return recipe.newSampler(null, Recipe.heunTimePoints(ddpmSteps), SamplerSettings.method("heun"));
        return recipe.newSampler(null, recipe.sampler() == SamplerKind.DPM_SOLVER_PP ? dpmSteps : ddpmSteps);
    }
}
