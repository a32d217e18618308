package dev.dit4j.models.train;

import dev.dit4j.models.diffusion.Edm;
import java.util.List;
import java.util.Locale;

/**
 * One of the four training stages of MicroDiT's authors (SonyResearch/micro_diffusion,
 * configs/res_{256,512}_{pretrain,finetune}.yaml): 256 px masked pre-training, 256 px
 * fine-tuning without masking, 512 px masked pre-training from the 256 px weights with the
 * position table recomputed (pos_interp_scale 2), 512 px fine-tuning. All four: AdamW betas
 * (0.9, 0.999), eps 1e-8, weight decay 0.1, batch 2048, caption dropout 0.1 (the embedding
 * zeroed), bf16 autocast, sigma_data 0.9.
 *
 * <p>{@code steps} is where the stage ends in the authors' step count: stages 2 and 4 continue
 * the previous stage's run (composer's load_path restores optimizer and timestamp), so stage 2
 * trains 30,000 steps to 280,000 and stage 4 5,000 to 55,000; stage 3 loads weights only and
 * counts from 0. (res_512_finetune.yaml names the 256 px fine-tuning run as its load_path, whose
 * 256-token position table cannot load into the 512 px model; stage 4 continues stage 3.)
 * {@code emaStart} is -1 where the stage keeps no EMA (its checkpoint's EMA is the weights
 * themselves); the EMA's start follows composer's ema_start (see
 * {@link DiffusionTrainer.Options#emaStart()}).
 */
public record MicroDiTStage(int number, String name, int imageSize, double posInterpScale, double maskRatio, double pMean, double pStd,
                            double lr, long warmup, boolean cosine, double floor, long steps, double gradClip, double emaDecay,
                            long emaStart, int batch, double weightDecay, double captionDropout) {
    /** Stage 1, res_256_pretrain.yaml. */
    public static final MicroDiTStage PRETRAIN_256 = new MicroDiTStage(1, "256 px masked pre-training", 256, 1, 0.75, -0.6, 1.2,
            2.4e-4, 2_500, true, 0.33, 250_000, 0.25, 0, -1, 2048, 0.1, 0.1);
    /** Stage 2, res_256_finetune.yaml. */
    public static final MicroDiTStage FINETUNE_256 = new MicroDiTStage(2, "256 px fine-tuning", 256, 1, 0, -0.6, 1.2,
            8e-5, 0, false, 1, 280_000, 0.25, 0, -1, 2048, 0.1, 0.1);
    /** Stage 3, res_512_pretrain.yaml. */
    public static final MicroDiTStage PRETRAIN_512 = new MicroDiTStage(3, "512 px masked pre-training", 512, 2, 0.75, 0, 0.6,
            8e-5, 500, false, 1, 50_000, 0.5, 0.99975, 25_000, 2048, 0.1, 0.1);
    /** Stage 4, res_512_finetune.yaml. */
    public static final MicroDiTStage FINETUNE_512 = new MicroDiTStage(4, "512 px fine-tuning", 512, 2, 0, 0, 0.6,
            8e-5, 0, false, 1, 55_000, 0.5, 0.9975, 1_000, 2048, 0.1, 0.1);

    public static final List<MicroDiTStage> ALL = List.of(PRETRAIN_256, FINETUNE_256, PRETRAIN_512, FINETUNE_512);

    /** Authors' sigma_data for MicroDiT's latents. */
    public static final double SIGMA_DATA = 0.9;

    /** By number: "1".."4", or "microdit-1".."microdit-4". */
    public static MicroDiTStage of(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("microdit-")) s = s.substring("microdit-".length());
        for (MicroDiTStage stage : ALL) if (s.equals(Integer.toString(stage.number()))) return stage;
        throw new IllegalArgumentException("unknown MicroDiT stage '" + text + "': expected 1, 2, 3 or 4 (or microdit-1 .. microdit-4)");
    }

    /** The latent side at the authors' 8x downsampling autoencoder. */
    public int latentSize() {
        return imageSize / 8;
    }

    /** Stage 3 starts from another resolution's weights: its position table is computed, not loaded. */
    public boolean recomputesPositions() {
        return number == 3;
    }

    /** Stages 2 and 4 continue the previous stage's run (--resume); stage 3 starts from its weights (--init). */
    public boolean continuesPreviousRun() {
        return number == 2 || number == 4;
    }

    public Edm edm() {
        return new Edm(SIGMA_DATA, pMean, pStd);
    }

    /** The stage's schedule with its rate and warm-up; a cosine decays to its floor at {@code total} (composer's t_max, the run's length). */
    public LrSchedule schedule() {
        return schedule(lr, warmup, steps);
    }

    /** The stage's kind of schedule with another peak, warm-up or length (a short run's). */
    public LrSchedule schedule(double peak, long warmupSteps, long total) {
        return cosine ? LrSchedule.warmupCosine(peak, warmupSteps, total, floor) : LrSchedule.warmupConstant(peak, warmupSteps);
    }

    /** AdamW with the stage's rate, decay, clipping, EMA and caption dropout (autocast and seed are the run's). */
    public DiffusionTrainer.Options options() {
        return DiffusionTrainer.Options.dit().withLr(lr).withWeightDecay(weightDecay).withGradClip(gradClip)
                .withEmaDecay(emaStart < 0 ? 0 : emaDecay).withEmaStart(Math.max(0, emaStart)).withConditionDropout(captionDropout);
    }
}
