package dev.dit4j.models.sampling;

/**
 * Settings of a sampler beyond its kind and steps, each null for the sampler's default: the
 * transport samplers' integration method (ODE: euler, heun, midpoint, dopri5; SDE: euler, heun),
 * dopri5's tolerances, the SDE's diffusion form and norm and its last step and size (SiT's
 * sample.py options). A sampler without such settings refuses any that is set.
 */
public record SamplerSettings(String method, Double atol, Double rtol, String diffusionForm, Double diffusionNorm, String lastStep,
                              Double lastStepSize) {
    /** Nothing set. */
    public static final SamplerSettings NONE = new SamplerSettings(null, null, null, null, null, null, null);

    public static SamplerSettings method(String method) {
        return NONE.withMethod(method);
    }

    public SamplerSettings withMethod(String m) {
        return new SamplerSettings(m, atol, rtol, diffusionForm, diffusionNorm, lastStep, lastStepSize);
    }

    public SamplerSettings withTolerances(Double a, Double r) {
        return new SamplerSettings(method, a, r, diffusionForm, diffusionNorm, lastStep, lastStepSize);
    }

    public SamplerSettings withDiffusion(String form, Double norm) {
        return new SamplerSettings(method, atol, rtol, form, norm, lastStep, lastStepSize);
    }

    public SamplerSettings withLastStep(String step, Double size) {
        return new SamplerSettings(method, atol, rtol, diffusionForm, diffusionNorm, step, size);
    }

    public boolean isEmpty() {
        return equals(NONE);
    }
}
