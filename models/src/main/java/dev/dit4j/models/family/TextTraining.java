package dev.dit4j.models.family;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.LrSchedule;
import dev.dit4j.models.train.MicroDiTStage;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import java.util.Map;
import java.util.Set;
import java.util.function.LongFunction;
import java.util.function.Supplier;

/**
 * Training a text-to-image model on caption embeddings as its authors do
 * ({@link ModelFamily#textTraining}): MicroDiT in one of its four stages, U-ViT's text models with
 * their MS-COCO recipe. A run's own choices ({@link Settings}) override the recipe's.
 */
public final class TextTraining {
    private TextTraining() {}

    /**
     * A run's choices, null where the recipe decides: the model's depth and width, the caption
     * width and length it is sized for, MicroDiT's stage and mask ratio, the learning rate's
     * warm-up, peak and the EMA's start and decay, gradient clipping, autocast (null: the recipe's,
     * e.g. bfloat16 on CUDA for MicroDiT), and the seed.
     */
    public record Settings(Integer depth, Integer width, Integer captionWidth, Integer captionTokens, MicroDiTStage stage, Double maskRatio,
                           Long warmup, Double lr, Long emaStart, Double emaDecay, Double gradClip, DType autocast, long seed) {}

    /**
     * What the run trains and how: the configuration, a fresh objective per call, the trainer's
     * options, the learning rate per step for a run of a given length, the authors' steps and batch
     * (null: the run's), what its checkpoints record, a description, the keys computed rather than
     * loaded when it starts from other weights, and a note for the user (or null).
     */
    public record Plan(DiffusionConfig<?> config, Supplier<TrainingObjective> objectives, DiffusionTrainer.Options options,
                       LongFunction<LrSchedule> schedules, Long steps, Integer batch, Map<String, String> metadata, String description,
                       Set<String> computedOnInit, String note) {
        public TrainingObjective objective() {
            return objectives.get();
        }

        /** The learning rate of a run that ends at step {@code total}. */
        public LrSchedule schedule(long total) {
            return schedules.apply(total);
        }
    }

    /** The autocast a run asked for, else bfloat16 on CUDA where the recipe trains in it. */
    static DType autocast(Settings s, Device device, boolean bf16OnCuda) {
        return s.autocast() != null ? s.autocast() : bf16OnCuda && device.isCuda() ? DType.BFLOAT16 : null;
    }
}
