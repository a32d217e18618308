package dev.dit4j.models.family;

import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.models.sampling.SampleChain;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.train.AdmObjective;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.io.WeightSource;
import java.util.Map;

/**
 * DiT (facebookresearch/DiT): the ADM hybrid loss (learned sigma), AdamW 1e-4, EMA 0.9999;
 * sampled with DDPM over 250 respaced steps at guidance 4 (sample.py), noise drawn before labels.
 */
final class DiTFamily implements ModelFamily {
    @Override
    public String name() {
        return "DiT";
    }

    @Override
    public PresetRegistry<DiT.Config> presets() {
        return DiT.PRESETS;
    }

    /** DiT's configurations but SiT's ("SiT-" names, {@link SiTFamily}). */
    @Override
    public boolean owns(DiffusionConfig<?> config) {
        return config instanceof DiT.Config && !ModelFamily.SIT.owns(config);
    }

    /** DiT's network, unless dit4j recorded a SiT configuration in the file. */
    @Override
    public boolean holds(WeightSource w) {
        return network(w) && !ModelFamily.SIT.holds(w);
    }

    @Override
    public boolean reads(WeightSource w) {
        return network(w);
    }

    /** The state dict holds DiT's network (DiT's and SiT's files). */
    static boolean network(WeightSource w) {
        long[] stem = w.shape("x_embedder.proj.weight");
        return stem != null && stem.length == 4 && w.shape("mask_token") == null && w.shape("y_embedder.embedding_table.weight") != null;
    }

    @Override
    public CheckpointInfo probe(WeightSource w, DiffusionConfig<?> base) {
        Map<String, String> meta = w.metadata();
        DiT.Config recorded = Recorded.parse(DiT.Config.class, meta, w);
        if (recorded != null) return new CheckpointInfo(this, recorded, presetOf(recorded.hidden(), recorded.patch()), true, meta);
        int hidden = Shapes.size(w, "x_embedder.proj.weight", 0, -1), in = Shapes.size(w, "x_embedder.proj.weight", 1, 4);
        int patch = Shapes.size(w, "x_embedder.proj.weight", 2, 2);
        String preset = presetOf(hidden, patch);
        DiT.Config b = base instanceof DiT.Config c ? c : preset != null ? DiT.PRESETS.get(preset) : DiT.XL_2;
        int rows = Shapes.size(w, "y_embedder.embedding_table.weight", 0, b.numClasses() + 1);
        int side = Shapes.side(w, "pos_embed", 0, patch);
        boolean learnSigma = Shapes.size(w, "final_layer.linear.weight", 0, -1) == patch * patch * 2 * in;
        int heads = hidden == b.hidden() ? b.heads() : Math.max(1, hidden / 64);
        DiT.Config c = b.withHeads(hidden % b.heads() == 0 ? b.heads() : 1).withHidden(hidden).withHeads(heads).withPatch(patch)
                .withInChannels(in).withInputSize(side > 0 ? side : b.inputSize()).withDepth(Shapes.count(w, "blocks"))
                .withNumClasses(rows - (b.classDropout() > 0 ? 1 : 0)).withLearnSigma(learnSigma);
        return new CheckpointInfo(this, c, preset, false, meta);
    }

    /** The preset of this width and patch. */
    private static String presetOf(int hidden, int patch) {
        return DiT.PRESETS.all().stream().filter(p -> p.hidden() == hidden && p.patch() == patch).map(DiT.Config::name).findFirst().orElse(null);
    }

    @Override
    public Recipe recipe(DiffusionConfig<?> config, boolean pixelSpace) {
        return admRecipe(config);
    }

    /** DiT's recipe, which U-DiT's authors train and sample with too. */
    static Recipe admRecipe(DiffusionConfig<?> config) {
        return new Recipe("ADM hybrid loss (learned sigma), AdamW 1e-4; DDPM 250 steps, guidance 4", AdmObjective::new,
                DiffusionTrainer.Options.dit(), SamplerKind.DDPM, 250, 4.0,
                config.numClasses() > 0 ? Recipe.NullCondition.NULL_LABEL : Recipe.NullCondition.NONE,
                SampleChain.Draw.NOISE_FIRST, Map.of(), FamilySamplers.adm(config));
    }
}
