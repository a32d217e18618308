package dev.dit4j.models.family;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.flow.Transport;
import dev.dit4j.models.flow.TransportObjective;
import dev.dit4j.models.sampling.SamplerSettings;
import dev.dit4j.models.sampling.SampleChain;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.Tensor;
import java.util.Map;
import java.util.function.Supplier;

/**
 * How a family's authors train and sample a model of one configuration: the training objective,
 * the optimiser defaults, the sampler with its steps and guidance scale, the null condition
 * guidance runs against, the order their scripts draw noise and labels in, and what a checkpoint
 * records beyond the configuration so that a pipeline rebuilds the same sampler from it.
 *
 * @param description what the recipe is, in a line ("ADM hybrid loss, DDPM 250 steps")
 * @param objectives  a fresh training objective each call (the trainer owns and closes it)
 * @param options     AdamW, EMA and dropout defaults (a run sets its own seed, rate, autocast)
 * @param sampler     the authors' sampler
 * @param steps       its steps
 * @param guidance    the authors' guidance scale, eps_u + scale (eps_c - eps_u) (1 = none)
 * @param nullCondition what the null form of a condition is
 * @param draw        whether random labels or the noise come first from a batch's generator
 * @param metadata    checkpoint metadata that rebuilds this recipe ({@link ModelFamily#recipe})
 * @param samplers    builds any sampler this family supports
 */
public record Recipe(String description, Supplier<TrainingObjective> objectives, DiffusionTrainer.Options options,
                     SamplerKind sampler, int steps, double guidance, NullCondition nullCondition, SampleChain.Draw draw,
                     Map<String, String> metadata, Samplers samplers) {
    /** The null form of a condition, which training drops to and guidance runs against. */
    public enum NullCondition {
        /** The extra label row numClasses (DiT, U-DiT, U-ViT's class models). */
        NULL_LABEL,
        /** Zero caption tokens (MicroDiT). */
        ZEROS,
        /** The empty prompt's encoding (U-ViT's text models). */
        EMPTY_CAPTION,
        /** An unconditional model. */
        NONE
    }

    /** Builds a sampler of a kind with a number of steps, refusing kinds the model cannot run. */
    @FunctionalInterface
    public interface Samplers {
        Sampler create(SamplerKind kind, int steps);

        /** With further settings (a transport sampler's method, tolerances, ...); a sampler without such settings refuses them. */
        default Sampler create(SamplerKind kind, int steps, SamplerSettings settings) {
            if (settings != null && !settings.isEmpty()) {
                throw new IllegalArgumentException(kind.flag() + " takes no sampling method, tolerances, diffusion form or last step: those are the ode and sde samplers'");
            }
            return create(kind, steps);
        }
    }

    public Recipe {
        metadata = Map.copyOf(metadata);
    }

    /** A fresh training objective (the trainer owns and closes it). */
    public TrainingObjective objective() {
        return objectives.get();
    }

    /** The authors' sampler with their steps. */
    public Sampler newSampler() {
        return samplers.create(sampler, steps);
    }

    /** {@code kind} (null: the authors') with {@code steps} (null: the recipe's for its own sampler, 250 for DDPM, ODE and SDE, else 50). */
    public Sampler newSampler(SamplerKind kind, Integer steps) {
        return newSampler(kind, steps, SamplerSettings.NONE);
    }

    /** As {@link #newSampler(SamplerKind, Integer)} with further {@code settings} (null: none). */
    public Sampler newSampler(SamplerKind kind, Integer steps, SamplerSettings settings) {
        SamplerKind k = kind != null ? kind : sampler;
        return samplers.create(k, steps != null ? steps : defaultSteps(k), settings == null ? SamplerSettings.NONE : settings);
    }

    /**
     * The time points of a transport's ODE with Heun steps (two network evaluations each, one at
     * the last) that cost about {@code evaluations} network evaluations, as many DDPM or DDIM
     * steps do: evaluations / 2 + 1, at least 2.
     */
    public static int heunTimePoints(int evaluations) {
        return Math.max(2, evaluations / 2 + 1);
    }

    /** The steps {@code kind} runs when none are asked for. */
    public int defaultSteps(SamplerKind kind) {
        return kind == sampler ? steps : kind == SamplerKind.DDPM || kind == SamplerKind.ODE || kind == SamplerKind.SDE ? 250 : 50;
    }

    /** This recipe's sampler replaced by {@code kind} over {@code n} steps by default. */
    public Recipe withSampler(SamplerKind kind, int n) {
        return new Recipe(description, objectives, options, kind, n, guidance, nullCondition, draw, metadata, samplers);
    }

    /** The transport this recipe trains with, or null for a diffusion recipe. */
    public Transport transport() {
        return Transport.fromMetadata(metadata);
    }

    /**
     * This recipe with SiT's transport objective {@code t} in place of its own, sampled with SiT's
     * ODE or SDE (dopri5 over 250 points unless the recipe already samples a transport); the
     * transport is recorded in the metadata, so that a checkpoint rebuilds these samplers.
     */
    public Recipe withTransport(Transport t, dev.dit4j.models.DiffusionConfig<?> config) {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>(metadata);
        m.putAll(t.metadata());
        boolean flow = sampler == SamplerKind.ODE || sampler == SamplerKind.SDE;
        String base = description.startsWith("transport (") ? description.substring(description.indexOf("in place of: ") + "in place of: ".length()) : description;
        return new Recipe("transport (" + t.describe() + ") in place of: " + base, () -> new TransportObjective(t), options,
                flow ? sampler : SamplerKind.ODE, flow ? steps : 250, guidance, nullCondition, draw, m, FamilySamplers.transport(config, t));
    }

    public Recipe withGuidance(double scale) {
        return new Recipe(description, objectives, options, sampler, steps, scale, nullCondition, draw, metadata, samplers);
    }

    public Recipe withOptions(DiffusionTrainer.Options o) {
        return new Recipe(description, objectives, o, sampler, steps, guidance, nullCondition, draw, metadata, samplers);
    }

    /**
     * Caption tokens [N, T, D] as this recipe's text conditioning: the null form zeros, or
     * {@code emptyCaption} [1, T, D] (the encoding of ""), which a recipe with
     * {@link NullCondition#EMPTY_CAPTION} requires.
     */
    public Conditioning.Text captions(Tensor tokens, Tensor emptyCaption) {
        return switch (nullCondition) {
            case ZEROS -> Conditioning.text(tokens);
            case EMPTY_CAPTION -> {
                if (emptyCaption == null) throw new IllegalArgumentException("this model guides against the empty caption's encoding; none was given");
                yield Conditioning.text(tokens, emptyCaption);
            }
            case NULL_LABEL, NONE -> throw new IllegalArgumentException("the model is not conditioned on text (" + description + ")");
        };
    }
}
