package dev.dit4j.models.family;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.models.UDiT;
import dev.dit4j.nn.io.WeightSource;
import java.util.List;
import java.util.Map;

/** U-DiT (YuchuanTian/U-DiT): trained and sampled with DiT's code, so DiT's recipe. */
final class UDiTFamily implements ModelFamily {
    private static final List<String> STAGES = List.of("encoder_level_1", "encoder_level_2", "latent", "decoder_level_2", "decoder_level_1");

    @Override
    public String name() {
        return "U-DiT";
    }

    @Override
    public PresetRegistry<UDiT.Config> presets() {
        return UDiT.PRESETS;
    }

    @Override
    public boolean owns(DiffusionConfig<?> config) {
        return config instanceof UDiT.Config;
    }

    @Override
    public boolean holds(WeightSource w) {
        return w.shape("t_embedder_1.mlp.0.weight") != null && w.shape("x_embedder.proj.weight") != null;
    }

    @Override
    public CheckpointInfo probe(WeightSource w, DiffusionConfig<?> base) {
        Map<String, String> meta = w.metadata();
        UDiT.Config recorded = Recorded.parse(UDiT.Config.class, meta, w);
        if (recorded != null) return new CheckpointInfo(this, recorded, presetOf(recorded.baseWidth()), true, meta);
        int width = Shapes.size(w, "x_embedder.proj.weight", 0, -1), in = Shapes.size(w, "x_embedder.proj.weight", 1, 4);
        String preset = presetOf(width);
        UDiT.Config b = base instanceof UDiT.Config c ? c : preset != null ? UDiT.PRESETS.get(preset) : UDiT.B;
        int rows = Shapes.size(w, "y_embedder_1.embedding_table.weight", 0, b.numClasses() + 1);
        boolean learnSigma = Shapes.size(w, "final_layer.out_proj.weight", 0, -1) == 2 * in;
        UDiT.Config c = b.withBaseWidth(width, width == b.baseWidth() ? b.heads() : b.heads() * width / b.baseWidth()).withInChannels(in)
                .withDepths(STAGES.stream().map(s -> Shapes.count(w, s)).toList())
                .withNumClasses(rows - (b.classDropout() > 0 ? 1 : 0)).withLearnSigma(learnSigma);
        return new CheckpointInfo(this, c, preset, false, meta);
    }

    private static String presetOf(int width) {
        return UDiT.PRESETS.all().stream().filter(p -> p.baseWidth() == width).map(UDiT.Config::name).findFirst().orElse(null);
    }

    @Override
    public Recipe recipe(DiffusionConfig<?> config, boolean pixelSpace) {
        return DiTFamily.admRecipe(config);
    }
}
