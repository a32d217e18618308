package dev.dit4j.models.family;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.sampling.SamplerKind;

/** The samplers each family's models can run. */
final class FamilySamplers {
    private FamilySamplers() {}

    /** DiT and U-DiT: DDPM and DDIM over the learned-variance diffusion, DPM-Solver++ on its discrete schedule. */
    static Recipe.Samplers adm(DiffusionConfig<?> config) {
        return (kind, steps) -> switch (kind) {
            case DDPM -> GaussianSampler.ddpm(learnedVariance(config, kind, steps));
            case DDIM -> GaussianSampler.ddim(learnedVariance(config, kind, steps), 0);
            case DPM_SOLVER_PP -> DpmSolverPP.forDiT(steps);
            case EDM_HEUN -> throw refused(config, kind, "it was not trained with EDM");
            case ODE, SDE -> throw notTransport(config, kind);
        };
    }

    /** U-ViT: DPM-Solver++ on its continuous or discrete schedule; it predicts noise only. */
    static Recipe.Samplers uvit(DiffusionConfig<?> config, boolean continuous) {
        return (kind, steps) -> switch (kind) {
            case DPM_SOLVER_PP -> continuous ? DpmSolverPP.forUViTContinuous(steps) : DpmSolverPP.forUViT(steps);
            case DDPM, DDIM -> GaussianSampler.ddpm(learnedVariance(config, kind, steps));
            case EDM_HEUN -> throw refused(config, kind, "it was not trained with EDM");
            case ODE, SDE -> throw notTransport(config, kind);
        };
    }

    static IllegalArgumentException notTransport(DiffusionConfig<?> config, SamplerKind kind) {
        return refused(config, kind, "it was not trained with a transport objective (train it with --objective flow)");
    }

    /** SiT's transport samplers for a model trained with {@code transport}; other kinds are refused. */
    static Recipe.Samplers transport(DiffusionConfig<?> config, dev.dit4j.models.flow.Transport transport) {
        return new Recipe.Samplers() {
            @Override
            public dev.dit4j.models.sampling.Sampler create(SamplerKind kind, int steps) {
                return create(kind, steps, dev.dit4j.models.sampling.SamplerSettings.NONE);
            }

            @Override
            public dev.dit4j.models.sampling.Sampler create(SamplerKind kind, int steps, dev.dit4j.models.sampling.SamplerSettings s) {
                if (kind != SamplerKind.ODE && kind != SamplerKind.SDE) {
                    throw refused(config, kind, "it was trained with a transport objective (" + transport.describe() + "): use ode or sde");
                }
                return dev.dit4j.models.flow.TransportSampler.of(transport, kind == SamplerKind.SDE, steps, s);
            }
        };
    }

    /** DDPM and DDIM here need the learned variance; returns {@code steps}. */
    private static int learnedVariance(DiffusionConfig<?> config, SamplerKind kind, int steps) {
        if (!config.learnSigma()) {
            throw refused(config, kind, "it predicts noise only (no learned variance), which " + kind.flag() + " here needs: use dpm-solver++");
        }
        return steps;
    }

    static IllegalArgumentException refused(DiffusionConfig<?> config, SamplerKind kind, String why) {
        return new IllegalArgumentException(config.name() + " cannot be sampled with " + kind.flag() + ": " + why);
    }
}
