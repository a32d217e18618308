package dev.dit4j.models.family;

import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.models.flow.Transport;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.nn.io.WeightSource;
import java.util.List;
import java.util.Map;

/**
 * SiT (Ma et al. 2024, willisma/SiT): DiT's network, unchanged, trained and sampled with
 * interpolants. Its presets are DiT's twelve sizes named "SiT-S/2" to "SiT-XL/8" (a DiT
 * configuration whose name starts with "SiT-"); its networks learn sigma as SiT's models.py
 * builds them (learn_sigma=True, the released SiT-XL/2 256 too), and only the first C output
 * channels are read, as SiT's forward drops the rest. Its recipe: the Linear path with velocity
 * prediction (train.py's defaults), AdamW 1e-4 and EMA 0.9999 as DiT's, sampled with the SDE
 * (Euler, diffusion sigma, last step Mean 0.04) over 250 steps at guidance 4 (sample.py).
 *
 * <p>SiT's files hold DiT's keys and shapes, so a released file is read as SiT only when asked
 * for by a SiT preset; a file dit4j writes records its configuration (and transport) and is
 * recognised as SiT from it.
 */
final class SiTFamily implements ModelFamily {
    private static DiT.Config preset(DiT.Config dit) {
        return dit.withName(dit.name().replaceFirst("^DiT-", "SiT-"));
    }

    static final List<DiT.Config> ALL_PRESETS = DiT.PRESETS.all().stream().map(SiTFamily::preset).toList();
    private static final PresetRegistry<DiT.Config> PRESETS = new PresetRegistry<>("SiT", ALL_PRESETS);

    @Override
    public String name() {
        return "SiT";
    }

    @Override
    public PresetRegistry<DiT.Config> presets() {
        return PRESETS;
    }

    @Override
    public boolean owns(DiffusionConfig<?> config) {
        return config instanceof DiT.Config c && c.name().startsWith("SiT-");
    }

    /** A dit4j SiT checkpoint: DiT's network whose recorded configuration is a SiT preset's. */
    @Override
    public boolean holds(WeightSource w) {
        if (!DiTFamily.network(w)) return false;
        DiT.Config recorded = Recorded.parse(DiT.Config.class, w.metadata(), w);
        return recorded != null && owns(recorded);
    }

    /** SiT reads DiT's files (the released SiT-XL/2 is one). */
    @Override
    public boolean reads(WeightSource w) {
        return DiTFamily.network(w);
    }

    @Override
    public CheckpointInfo probe(WeightSource w, DiffusionConfig<?> base) {
        CheckpointInfo dit = ModelFamily.DIT.probe(w, base instanceof DiT.Config c ? c : null);
        DiT.Config c = (DiT.Config) dit.config();
        if (!owns(c)) c = c.withName(c.name().startsWith("DiT-") ? preset(c).name() : "SiT-" + c.name());
        String presetName = dit.preset() == null ? null : dit.preset().replaceFirst("^DiT-", "SiT-");
        return new CheckpointInfo(this, c, presetName, dit.recorded(), dit.metadata());
    }

    @Override
    public Recipe recipe(DiffusionConfig<?> config, boolean pixelSpace) {
        Recipe dit = DiTFamily.admRecipe(config);
        return dit.withTransport(Transport.sit(), config).withSampler(SamplerKind.SDE, 250).withGuidance(4.0);
    }
}
