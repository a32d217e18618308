package dev.dit4j.models.family;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.sampling.EdmSampler;
import dev.dit4j.models.sampling.SampleChain;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.models.train.MicroDiTStage;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.Device;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * MicroDiT (SonyResearch/micro_diffusion): EDM with deferred masking, trained in four stages
 * ({@link MicroDiTStage}; a new model's recipe is stage 1's), sampled with EDM's Heun sampler
 * (30 steps, guidance 5) against zero captions. A checkpoint records its EDM sigma_data as
 * {@link CheckpointInfo#EDM_SIGMA_DATA} (the authors' 0.9 when absent).
 */
final class MicroDiTFamily implements ModelFamily {
    private static final String SIGMA_DATA = CheckpointInfo.EDM_SIGMA_DATA;

    @Override
    public String name() {
        return "MicroDiT";
    }

    @Override
    public PresetRegistry<MicroDiT.Config> presets() {
        return MicroDiT.PRESETS;
    }

    @Override
    public ClipTextConfig textEncoder() {
        return ClipTextConfig.OPENCLIP_VIT_H_14;
    }

    @Override
    public boolean owns(DiffusionConfig<?> config) {
        return config instanceof MicroDiT.Config;
    }

    @Override
    public boolean holds(WeightSource w) {
        long[] stem = w.shape("x_embedder.proj.weight");
        return stem != null && stem.length == 4 && w.shape("mask_token") != null;
    }

    @Override
    public CheckpointInfo probe(WeightSource w, DiffusionConfig<?> base) {
        Map<String, String> meta = w.metadata();
        MicroDiT.Config recorded = Recorded.parse(MicroDiT.Config.class, meta, w);
        if (recorded != null) return new CheckpointInfo(this, recorded, presetOf(recorded.dim()), true, meta);
        int dim = Shapes.size(w, "x_embedder.proj.weight", 0, -1), in = Shapes.size(w, "x_embedder.proj.weight", 1, 4);
        int patch = Shapes.size(w, "x_embedder.proj.weight", 2, 2);
        String preset = presetOf(dim);
        MicroDiT.Config b = base instanceof MicroDiT.Config c ? c : preset != null ? MicroDiT.PRESETS.get(preset) : MicroDiT.XL_2;
        int side = Shapes.side(w, "pos_embed", 0, patch);
        if (side <= 0) side = b.inputSize();
        // the released 512 px files: a 64 x 64 latent whose position table was computed at pos_interp_scale 2
        MicroDiT.Config c = b.withDim(dim).withPatch(patch).withInChannels(in).withInputSize(side)
                .withPosInterpScale(b.posInterpScale() * side / b.inputSize()).withDepth(Shapes.count(w, "blocks"))
                .withMixerDepth(Shapes.count(w, "patch_mixer")).withMixerDim(Shapes.size(w, "patch_mixer_map_xin.1.weight", 0, dim))
                .withCaptionChannels(Shapes.size(w, "y_embedder.y_proj.fc1.weight", 1, b.captionChannels()));
        return new CheckpointInfo(this, c, preset, false, meta);
    }

    private static String presetOf(int dim) {
        return MicroDiT.PRESETS.all().stream().filter(p -> p.dim() == dim).map(MicroDiT.Config::name).findFirst().orElse(null);
    }

    /**
     * The stage's recipe (stage 1 unless the settings name one): its EDM, mask ratio, AdamW,
     * schedule, clipping, EMA, caption dropout, steps and batch, bfloat16 on CUDA, its
     * pos_interp_scale; the run's settings overriding. Stage 3 starts from the 256 px weights with
     * the position table computed for 512 px.
     */
    @Override
    public TextTraining.Plan textTraining(DiffusionConfig<?> preset, TextTraining.Settings s, Device device) {
        MicroDiTStage st = s.stage() != null ? s.stage() : MicroDiTStage.PRETRAIN_256;
        MicroDiT.Config c = ((MicroDiT.Config) preset).withPosInterpScale(st.posInterpScale());
        if (s.depth() != null) c = c.withDepth(s.depth());
        if (s.width() != null) c = c.withDim(s.width()).withMixerDim(s.width());
        if (s.captionWidth() != null) c = c.withCaptionChannels(s.captionWidth());
        double mask = s.maskRatio() != null ? s.maskRatio() : st.maskRatio();
        DiffusionTrainer.Options o = st.options().withLr(s.lr() != null ? s.lr() : st.lr()).withSeed(s.seed()).withAutocast(TextTraining.autocast(s, device, true));
        if (s.gradClip() != null) o = o.withGradClip(s.gradClip());
        if (s.emaDecay() != null) o = o.withEmaDecay(s.emaDecay());
        if (s.emaStart() != null) o = o.withEmaStart(s.emaStart());
        long warmup = s.warmup() != null ? s.warmup() : st.warmup();
        double lr = o.lr();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SIGMA_DATA, Double.toString(st.edm().sigmaData()));
        meta.put("stage", Integer.toString(st.number()));
        meta.put("mask_ratio", Double.toString(mask));
        String description = String.format(Locale.ROOT, "MicroDiT stage %d (%s): EDM P_mean %s P_std %s, mask %.2f, lr %.3g (%s, %d warm-up), clip %s, EMA %s from step %d,"
                        + " caption dropout %.2f, autocast %s", st.number(), st.name(), st.pMean(), st.pStd(), mask, lr, st.cosine() ? "cosine to " + st.floor() + "x" : "constant",
                warmup, o.gradClip(), o.emaDecay(), o.emaStart(), o.conditionDropout(), o.autocast() == null ? "none" : o.autocast());
        String note = c.inputSize() == st.latentSize() ? null : String.format("stage %d is the authors' %d px (%dx%d latents at 8x); these latents are %dx%d",
                st.number(), st.imageSize(), st.latentSize(), st.latentSize(), c.inputSize(), c.inputSize());
        int patch = c.patch();
        return new TextTraining.Plan(c, () -> new EdmObjective(st.edm(), mask, patch), o, total -> {
            if (st.cosine() && total <= warmup)
                throw new IllegalArgumentException("stage " + st.number() + "'s cosine schedule warms up for " + warmup + " steps, but the run ends at step "
                        + total + ": a run must be longer than its warm-up");
            return st.schedule(lr, warmup, total);
        }, st.steps(), st.batch(), meta, description, st.recomputesPositions() ? Set.of("pos_embed") : Set.of(), note);
    }

    @Override
    public Recipe recipe(DiffusionConfig<?> config, boolean pixelSpace) {
        return recipe((MicroDiT.Config) config, MicroDiTStage.PRETRAIN_256.edm());
    }

    @Override
    public Recipe recipe(CheckpointInfo file) {
        String text = file.metadata().getOrDefault(SIGMA_DATA, Double.toString(MicroDiTStage.SIGMA_DATA));
        double sigmaData;
        try {
            sigmaData = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            sigmaData = Double.NaN;
        }
        if (!(sigmaData > 0)) throw new IllegalArgumentException("metadata '" + SIGMA_DATA + "' = '" + text + "' is not a positive number");
        return recipe((MicroDiT.Config) file.config(), new Edm(sigmaData, 0, 1));
    }

    /** Stage 1's training with {@code edm}'s sigma_data (and, for training, its noise levels); EDM Heun sampling. */
    static Recipe recipe(MicroDiT.Config c, Edm edm) {
        MicroDiTStage stage = MicroDiTStage.PRETRAIN_256;
        return new Recipe("EDM (sigma_data " + edm.sigmaData() + ") with deferred masking, stage 1; EDM Heun " + EdmSampler.DEFAULT_STEPS
                + " steps, guidance " + EdmSampler.DEFAULT_GUIDANCE,
                () -> new EdmObjective(edm, stage.maskRatio(), c.patch()), stage.options(), SamplerKind.EDM_HEUN, EdmSampler.DEFAULT_STEPS,
                EdmSampler.DEFAULT_GUIDANCE, Recipe.NullCondition.ZEROS, SampleChain.Draw.NOISE_FIRST,
                Map.of(SIGMA_DATA, Double.toString(edm.sigmaData())), (kind, steps) -> {
                    if (kind != SamplerKind.EDM_HEUN) throw FamilySamplers.refused(c, kind, "it was trained with EDM: use edm-heun");
                    return new EdmSampler(new Edm(edm.sigmaData(), 0, 1), EdmSampler.Options.microDiT(steps));
                });
    }
}
