package dev.dit4j.models;

import dev.dit4j.models.family.ModelFamily;

/**
 * The configuration of a diffusion network (DiT, U-ViT, U-DiT, MicroDiT): what every family's
 * config says in its own words, under one name each, for the trainer, the samplers, the
 * pipelines and the checkpoint probes.
 */
public interface DiffusionConfig<M extends DiffusionModel<?>> extends ModelConfig<M> {
    /** Real classes of a class-conditional model (label {@code numClasses} is its null label); 0 or less for a model without labels. */
    int numClasses();

    /** True when the model outputs epsilon and the learned-range variance, 2C channels (DiT, U-DiT). */
    default boolean learnSigma() {
        return false;
    }

    /** Channels of the model's input (latent channels, or 1/3 for a pixel-space model). */
    int inChannels();

    /**
     * Height = width of the inputs the model works at, in latent (or pixel) units: DiT's and
     * MicroDiT's {@code input_size}, U-ViT's {@code img_size}, U-DiT's {@code input_size}.
     */
    int side();

    /** The same model for inputs of {@code channels} x {@code side} x {@code side}. */
    DiffusionConfig<M> resized(int channels, int side);

    /**
     * The same model with {@code depth} blocks and {@code classes} real classes (null: as it is), as
     * a small run trains a preset; refused by a family without that knob.
     */
    DiffusionConfig<M> overridden(Integer depth, Integer classes);

    /** Width of the caption tokens a text-to-image model takes; 0 for a model without text. */
    default int captionWidth() {
        return 0;
    }

    /** Caption tokens a text-to-image model takes: a fixed count, or -1 for any (0 without text). */
    default int captionTokens() {
        return 0;
    }

    /** The family this configuration belongs to: its presets, probe and recipes. */
    default ModelFamily family() {
        return ModelFamily.of(this);
    }

    /** The preset called {@code name} in any family ("DiT-XL/2", "imagenet256_uvit_huge", "U-DiT-B", "MicroDiT_XL_2", ...). */
    static DiffusionConfig<?> preset(String name) {
        return ModelFamily.ofPreset(name).presets().get(name);
    }

    /** Shape [n, C, side, side] of n samples. */
    default long[] sampleShape(long n) {
        return new long[] {n, inChannels(), side(), side()};
    }
}
