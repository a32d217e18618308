package dev.dit4j.models.family;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.models.UViT;
import dev.dit4j.models.sampling.SampleChain;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.NoisePredictionObjective;
import dev.dit4j.models.train.VpSdeObjective;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.models.train.LrSchedule;
import dev.dit4j.nn.Device;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.Map;
import java.util.function.Predicate;

/**
 * U-ViT (baofff/U-ViT): noise-prediction MSE, sampled with DPM-Solver++ (50 steps). Its time is
 * continuous (the VP-SDE) in its pixel models and its released L latent models (train.py,
 * train_ldm.py) and discrete (Stable Diffusion's schedule) in its H latent models and text models
 * (train_ldm_discrete.py, train_t2i_discrete.py), whose evaluation draws the random labels before
 * the noise. A checkpoint dit4j writes records its time as {@link CheckpointInfo#UVIT_TIME}; a new pixel-space model
 * (1 or 3 channels) trains in continuous time, a latent one in discrete time.
 */
final class UViTFamily implements ModelFamily {
    private static final String TIME = CheckpointInfo.UVIT_TIME;

    @Override
    public String name() {
        return "U-ViT";
    }

    @Override
    public PresetRegistry<UViT.Config> presets() {
        return UViT.PRESETS;
    }

    @Override
    public ClipTextConfig textEncoder() {
        return ClipTextConfig.CLIP_VIT_L_14;
    }

    /** U-ViT's configs write eps_c + s (eps_c - eps_u): s = scale - 1 (their 0.4 is 1.4). */
    @Override
    public double scaleFromAuthors(double authorsScale) {
        return authorsScale + 1;
    }

    @Override
    public boolean owns(DiffusionConfig<?> config) {
        return config instanceof UViT.Config;
    }

    @Override
    public boolean holds(WeightSource w) {
        long[] stem = w.shape("patch_embed.proj.weight");
        return stem != null && stem.length == 4;
    }

    @Override
    public CheckpointInfo probe(WeightSource w, DiffusionConfig<?> base) {
        Map<String, String> meta = w.metadata();
        UViT.Config recorded = Recorded.parse(UViT.Config.class, meta, w);
        if (recorded != null) return new CheckpointInfo(this, recorded, presetOf(recorded), true, meta);
        int dim = Shapes.size(w, "patch_embed.proj.weight", 0, -1), in = Shapes.size(w, "patch_embed.proj.weight", 1, 4);
        int patch = Shapes.size(w, "patch_embed.proj.weight", 2, 2);
        int labels = Shapes.size(w, "label_emb.weight", 0, 0), contextDim = Shapes.size(w, "context_embed.weight", 1, 0);
        UViT.Config b = base instanceof UViT.Config c ? c : nearest(dim, patch, in, labels > 0, contextDim > 0);
        UViT.Config c = b.withWidth(dim, dim == b.embedDim() ? b.heads() : Math.max(1, dim / 64)).withPatch(patch).withInChannels(in)
                .withDepth(Shapes.count(w, "in_blocks") + Shapes.count(w, "out_blocks")).withConv(w.shape("final_layer.weight") != null)
                .withQkvBias(w.shape("mid_block.attn.qkv.bias") != null);
        int extras;
        if (labels > 0) {
            boolean withNull = !b.classConditional() || b.nullLabel();
            c = c.withClasses(labels - (withNull ? 1 : 0), withNull);
            extras = 2;
        } else if (contextDim > 0) {
            int tokens = b.textConditional() ? b.contextTokens() : 77;
            c = c.withContext(contextDim, tokens);
            extras = 1 + tokens;
        } else {
            c = c.unconditional();
            extras = 1;
        }
        int side = Shapes.side(w, "pos_embed", extras, patch);
        if (side > 0) c = c.withImgSize(side);
        return new CheckpointInfo(this, c, presetOf(c), false, meta);
    }

    /** The preset of this width, patch, channels and conditioning; else of this width and patch; else of this width; else L/2. */
    private static UViT.Config nearest(int dim, int patch, int in, boolean classes, boolean text) {
        List<Predicate<UViT.Config>> tries = List.of(
                p -> p.embedDim() == dim && p.patch() == patch && p.inChannels() == in && p.classConditional() == classes && p.textConditional() == text,
                p -> p.embedDim() == dim && p.patch() == patch,
                p -> p.embedDim() == dim);
        for (Predicate<UViT.Config> t : tries) {
            var found = UViT.PRESETS.all().stream().filter(t).findFirst();
            if (found.isPresent()) return found.get();
        }
        return UViT.IMAGENET256_L_2;
    }

    private static String presetOf(UViT.Config c) {
        return UViT.PRESETS.all().stream().filter(p -> p.embedDim() == c.embedDim() && p.patch() == c.patch() && p.inChannels() == c.inChannels()
                && p.textConditional() == c.textConditional()).map(UViT.Config::name).findFirst().orElse(null);
    }

    /**
     * U-ViT's MS-COCO recipe (train_t2i_discrete.py): noise MSE on the discrete schedule, AdamW 2e-4
     * with betas (0.9, 0.9) and weight decay 0.03 after 5,000 warm-up steps, the empty caption's
     * encoding dropped in with p 0.1.
     */
    @Override
    public TextTraining.Plan textTraining(DiffusionConfig<?> preset, TextTraining.Settings s, Device device) {
        UViT.Config c = (UViT.Config) preset;
        if (!c.textConditional()) return ModelFamily.super.textTraining(preset, s, device);
        if (s.stage() != null || s.maskRatio() != null) throw new IllegalArgumentException("a stage or a mask ratio applies to MicroDiT, not to " + c.name());
        if (s.depth() != null) c = c.withDepth(s.depth());
        if (s.width() != null) c = c.withWidth(s.width(), Math.max(1, s.width() / 64));
        if (s.captionWidth() != null) c = c.withContext(s.captionWidth(), s.captionTokens());
        Recipe r = recipe(c, false);
        DiffusionTrainer.Options o = r.options().withLr(s.lr() != null ? s.lr() : r.options().lr()).withSeed(s.seed())
                .withAutocast(TextTraining.autocast(s, device, false)).withEmaStart(s.emaStart() != null ? s.emaStart() : 0);
        if (s.emaDecay() != null) o = o.withEmaDecay(s.emaDecay());
        if (s.gradClip() != null) o = o.withGradClip(s.gradClip());
        long warmup = s.warmup() != null ? s.warmup() : 5000;
        double lr = o.lr();
        return new TextTraining.Plan(c, r.objectives(), o, total -> LrSchedule.warmupConstant(lr, warmup), null, null, r.metadata(),
                String.format(Locale.ROOT, "U-ViT text: noise MSE, lr %.3g after %d warm-up steps, caption dropout 0.1 (empty caption)", lr, warmup),
                Set.of(), null);
    }

    @Override
    public Recipe recipe(DiffusionConfig<?> config, boolean pixelSpace) {
        return recipe((UViT.Config) config, pixelSpace);
    }

    @Override
    public Recipe recipe(CheckpointInfo file) {
        UViT.Config c = (UViT.Config) file.config();
        String time = file.metadata().get(TIME);
        if (time != null && !time.equals("continuous") && !time.equals("discrete"))
            throw new IllegalArgumentException("metadata '" + TIME + "' = '" + time + "': expected continuous or discrete");
        if (time != null) return recipe(c, time.equals("continuous"));
        if (file.recorded()) return recipe(c);
        boolean releasedContinuous = c.name().equals(UViT.IMAGENET256_L_2.name()) || c.name().equals(UViT.IMAGENET512_L_4.name());
        return recipe(c, c.inChannels() <= 3 || releasedContinuous);
    }

    private static Recipe recipe(UViT.Config c, boolean continuous) {
        DiffusionTrainer.Options options = c.textConditional() ? DiffusionTrainer.Options.uvit().withBetas(0.9, 0.9).withConditionDropout(0.1)
                : DiffusionTrainer.Options.uvit();
        double guidance = c.textConditional() ? 2.0 : c.classConditional() && c.nullLabel() ? 1.4 : 1;
        Recipe.NullCondition none = c.textConditional() ? Recipe.NullCondition.EMPTY_CAPTION
                : c.classConditional() ? Recipe.NullCondition.NULL_LABEL : Recipe.NullCondition.NONE;
        String time = continuous ? "continuous" : "discrete";
        return new Recipe("noise MSE in " + time + " time, AdamW 2e-4; DPM-Solver++ 50 steps, guidance " + guidance,
                continuous ? VpSdeObjective::uvit : NoisePredictionObjective::uvit, options, SamplerKind.DPM_SOLVER_PP, 50, guidance, none,
                continuous ? SampleChain.Draw.NOISE_FIRST : SampleChain.Draw.LABELS_FIRST, Map.of(TIME, time), FamilySamplers.uvit(c, continuous));
    }
}
