package dev.dit4j.models.family;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.models.Weights;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One architecture's knowledge beyond its network: its presets, how to tell the configuration a
 * weights file was trained with ({@link #probe}), and its authors' recipe for training and
 * sampling a configuration ({@link #recipe}). Commands and pipelines ask the family instead of
 * switching on the model's class.
 */
public sealed interface ModelFamily permits DiTFamily, SiTFamily, UViTFamily, UDiTFamily, MicroDiTFamily {
    ModelFamily DIT = new DiTFamily();
    ModelFamily UVIT = new UViTFamily();
    ModelFamily UDIT = new UDiTFamily();
    ModelFamily MICRODIT = new MicroDiTFamily();
    /** DiT's network trained and sampled with SiT's interpolants. */
    ModelFamily SIT = new SiTFamily();
    /** Every family (SiT shares DiT's network and configuration class; it owns the "SiT-" names). */
    List<ModelFamily> ALL = List.of(DIT, SIT, UVIT, UDIT, MICRODIT);

    /** "DiT", "SiT", "U-ViT", "U-DiT", "MicroDiT". */
    String name();

    /** The named configurations, found by any spelling of their names. */
    PresetRegistry<? extends DiffusionConfig<?>> presets();

    /** True when {@code config} is one of this family's. */
    boolean owns(DiffusionConfig<?> config);

    /** True when the state dict in {@code weights} holds this family's network (by its key names). */
    boolean holds(WeightSource weights);

    /** True when this family can load {@code weights} when asked to (by a preset): its own files, and for SiT DiT's, whose network it shares. */
    default boolean reads(WeightSource weights) {
        return holds(weights);
    }

    /**
     * The configuration {@code weights} were trained with: the one a dit4j checkpoint records in
     * its 'config' metadata, else read from tensor shapes (depth, width, patch, channels, classes,
     * learned sigma, side, caption width) over {@code base} (a preset; null: the preset of the
     * same width). Only this family's files are probed ({@link #holds}).
     */
    CheckpointInfo probe(WeightSource weights, DiffusionConfig<?> base);

    /** The text encoder the family's authors condition on (its layout and defaults; a file's own sizes win), or null for a class model family. */
    default ClipTextConfig textEncoder() {
        return null;
    }

    /**
     * dit4j's guidance scale (eps_u + scale (eps_c - eps_u), 1 = none) for a scale written as the
     * family's authors write it; the same number except for U-ViT, whose s is scale - 1.
     */
    default double scaleFromAuthors(double authorsScale) {
        return authorsScale;
    }

    /**
     * The authors' recipe for a new model of {@code config} trained on pixels or on latents (U-ViT
     * trains the two in different time); {@link Recipe#metadata} records it in the model's checkpoints.
     */
    Recipe recipe(DiffusionConfig<?> config, boolean pixelSpace);

    /** {@link #recipe(DiffusionConfig, boolean)} in pixel space for 1 or 3 input channels, else on latents. */
    default Recipe recipe(DiffusionConfig<?> config) {
        return recipe(config, config.inChannels() <= 3);
    }

    /** The recipe of a model loaded from a file: what the file recorded when dit4j trained it, its authors' for their released files. */
    default Recipe recipe(CheckpointInfo file) {
        return recipe(file.config());
    }

    /**
     * The plan to train {@code preset} (resized to the latents) on caption embeddings with the run's
     * {@code settings}, as the family's authors train text-to-image; a class model family refuses.
     */
    default TextTraining.Plan textTraining(DiffusionConfig<?> preset, TextTraining.Settings settings, dev.dit4j.nn.Device device) {
        throw new IllegalArgumentException(preset.name() + " is class-conditional: train MicroDiT or a U-ViT text preset on captions");
    }

    /** The family of a preset name ("DiT-XL/2", "SiT-XL/2", "imagenet256_uvit_huge", "U-DiT-B", "MicroDiT_XL_2", ...). */
    static ModelFamily ofPreset(String name) {
        for (ModelFamily f : ALL) if (f.presets().find(name).isPresent()) return f;
        throw new IllegalArgumentException("unknown model '" + name + "'; known: " + presetNames());
    }

    /** The family of a configuration. */
    static ModelFamily of(DiffusionConfig<?> config) {
        for (ModelFamily f : ALL) if (f.owns(config)) return f;
        throw new IllegalArgumentException("no family owns " + config);
    }

    /** The family of a model. */
    static ModelFamily of(DiffusionModel<?> model) {
        return of(model.config());
    }

    /** Every preset's name, family by family. */
    static List<String> presetNames() {
        List<String> all = new ArrayList<>();
        for (ModelFamily f : ALL) f.presets().all().forEach(c -> all.add(c.name()));
        return all;
    }

    /** The family whose network {@code weights} hold, if any. */
    static Optional<ModelFamily> holding(WeightSource weights) {
        return ALL.stream().filter(f -> f.holds(weights)).findFirst();
    }

    /** {@link #probe(WeightSource)} of a file. */
    static CheckpointInfo probe(Path file) {
        try (WeightSource w = Weights.open(file)) {
            return probe(w);
        }
    }

    /** What {@code weights} hold: family and configuration; refused by name when no family's network is there. */
    static CheckpointInfo probe(WeightSource weights) {
        ModelFamily f = holding(weights).orElseThrow(() -> new IllegalArgumentException(weights.describe()
                + " holds no DiT, U-ViT, U-DiT or MicroDiT network (none of x_embedder.proj.weight, patch_embed.proj.weight): is it an autoencoder or another network?"));
        return f.probe(weights, null);
    }
}
