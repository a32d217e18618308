package dev.dit4j.models.sampling;

import java.util.Locale;

/** The samplers a pipeline can run; each family's recipe says which its authors use and builds it. */
public enum SamplerKind {
    /** Ancestral DDPM over respaced steps (DiT, U-DiT). */
    DDPM,
    /** DDIM (eta 0) over evenly strided steps. */
    DDIM,
    /** DPM-Solver++ (U-ViT; also DiT's discrete schedule). */
    DPM_SOLVER_PP,
    /** EDM's Heun sampler (MicroDiT). */
    EDM_HEUN,
    /** SiT's probability-flow ODE (models trained with a transport objective). */
    ODE,
    /** SiT's SDE (models trained with a transport objective). */
    SDE;

    /** ddpm, ddim, dpm-solver++ (dpm-solver, dpmsolver++, dpm), edm-heun (edm), ode or sde. */
    public static SamplerKind parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "ddpm" -> DDPM;
            case "ddim" -> DDIM;
            case "dpm-solver++", "dpmsolver++", "dpm-solver", "dpm" -> DPM_SOLVER_PP;
            case "edm-heun", "edm", "heun" -> EDM_HEUN;
            case "ode" -> ODE;
            case "sde" -> SDE;
            default -> throw new IllegalArgumentException("'" + text + "': expected ddpm, ddim, dpm-solver++, edm-heun, ode or sde");
        };
    }

    /** The name {@link #parse} takes: ddpm, ddim, dpm-solver++, edm-heun, ode, sde. */
    public String flag() {
        return this == DPM_SOLVER_PP ? "dpm-solver++" : name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
