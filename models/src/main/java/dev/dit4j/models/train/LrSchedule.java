package dev.dit4j.models.train;

/**
 * A learning rate per optimisation step. MicroDiT's stages use composer's
 * CosineAnnealingWithWarmupScheduler: linear warm-up from 0 over {@code warmup} steps, then
 * peak (f + (1 - f) (1 + cos(pi tau)) / 2) with tau = (step - warmup) / (total - warmup), down to
 * the floor f peak at {@code total}; stage 3 warms up over 500 steps then holds (composer's
 * ConstantWithWarmupScheduler, as U-ViT's "customized" schedule), stages 2 and 4 hold a constant rate.
 */
@FunctionalInterface
public interface LrSchedule {
    /** The rate for optimisation step {@code step} (0-based). */
    double at(long step);

    static LrSchedule constant(double lr) {
        return step -> lr;
    }

    /** Linear warm-up from 0 over {@code warmup} steps, then {@code peak}. */
    static LrSchedule warmupConstant(double peak, long warmup) {
        if (!(peak > 0) || warmup < 0) throw new IllegalArgumentException("need peak > 0 and warmup >= 0; got " + peak + ", " + warmup);
        return step -> step < warmup ? peak * step / warmup : peak;
    }

    static LrSchedule warmupCosine(double peak, long warmup, long total, double floor) {
        if (!(peak > 0) || warmup < 0 || total <= warmup || floor < 0 || floor > 1) {
            throw new IllegalArgumentException("need peak > 0, 0 <= warmup < total, floor in [0, 1]; got " + peak + ", " + warmup + ", " + total + ", " + floor);
        }
        return step -> {
            if (step < warmup) return peak * step / warmup;
            double tau = Math.min(1, (double) (step - warmup) / (total - warmup));
            return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * tau)));
        };
    }

    /** MicroDiT stage 1 (256 px, masked): 2.4e-4, 2,500 warm-up steps, cosine to 0.33x at 250K. */
    static LrSchedule microDiTStage1() {
        return warmupCosine(2.4e-4, 2_500, 250_000, 0.33);
    }
}
