package dev.dit4j.models.sampling;

/**
 * How a network reads time: the solver's continuous t in (0, 1] becomes the network's timestep
 * input {@code scale * (t - offset)}. The conventions differ between codebases, so they are
 * explicit here.
 */
public record TimeInput(double scale, double offset) {
    public TimeInput {
        if (!(scale > 0) || !Double.isFinite(offset)) throw new IllegalArgumentException("need scale > 0 and a finite offset, got " + scale + ", " + offset);
    }

    /**
     * DPM-Solver's model_wrapper: for a discrete schedule of N steps, {@code (t - 1/N) * 1000}, so
     * t_n = (n+1)/N reads as step n = 0 .. N-1 (DiT, U-DiT, ADM); for a continuous schedule, t itself.
     */
    public static TimeInput reference(NoiseScheduleVP schedule) {
        return schedule.isDiscrete() ? new TimeInput(1000, 1.0 / schedule.totalN()) : continuous();
    }

    /** U-ViT's discrete models (eval_ldm_discrete.py calls nnet(x, t_continuous * N)): steps 1 .. N. */
    public static TimeInput uvitDiscrete(int n) {
        return new TimeInput(n, 0);
    }

    /** U-ViT's continuous-time models (sde.ScoreModel calls nnet(x, t * 999)). */
    public static TimeInput uvitContinuous() {
        return new TimeInput(999, 0);
    }

    /** The network reads t unchanged. */
    public static TimeInput continuous() {
        return new TimeInput(1, 0);
    }

    /** The network timestep for solver time t. */
    public double apply(double t) {
        return (t - offset) * scale;
    }
}
