package dev.dit4j.models.pipeline;

import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.sampling.SamplerSettings;
import dev.dit4j.nn.DType;
import java.util.Arrays;
import java.util.List;

/**
 * What to sample: {@code count} images in batches of {@code batch}, for class {@code labels} (used
 * in turn; null: random classes, or none for an unconditional model) or {@code prompts} (used in
 * turn), from {@code seed}; the sampler, steps and guidance scale default to the model's recipe
 * (null), {@code autocast} to full precision (null). Batch b draws from its own generator seeded by
 * {@link #batchSeed}, so any batch can be sampled alone and a stopped run resumed.
 */
public record SampleRequest(int count, int batch, long seed, long[] labels, List<String> prompts, SamplerKind sampler, Integer steps,
                            Double guidance, DType autocast, SamplerSettings settings) {
    public SampleRequest {
        if (count <= 0) throw new IllegalArgumentException("count must be positive, got " + count);
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (labels != null && labels.length == 0) throw new IllegalArgumentException("labels is empty");
        if (prompts != null && prompts.isEmpty()) throw new IllegalArgumentException("prompts is empty");
        if (labels != null && prompts != null) throw new IllegalArgumentException("a request takes labels or prompts, not both");
        if (steps != null && steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (guidance != null && !(guidance >= 0)) throw new IllegalArgumentException("guidance must be >= 0, got " + guidance);
        labels = labels == null ? null : labels.clone();
        prompts = prompts == null ? null : List.copyOf(prompts);
        settings = settings == null ? SamplerSettings.NONE : settings;
    }

    /** The request without sampler settings (the recipe's sampler defaults). */
    public SampleRequest(int count, int batch, long seed, long[] labels, List<String> prompts, SamplerKind sampler, Integer steps,
                         Double guidance, DType autocast) {
        this(count, batch, seed, labels, prompts, sampler, steps, guidance, autocast, SamplerSettings.NONE);
    }

    /** {@code count} images of random classes (or of an unconditional model), in batches of 8, seed 0, the recipe's sampler. */
    public static SampleRequest of(int count) {
        return new SampleRequest(count, 8, 0, null, null, null, null, null, null);
    }

    /** One image per label. */
    public static SampleRequest labels(long... labels) {
        return of(labels.length).withLabels(labels);
    }

    /** One image per prompt. */
    public static SampleRequest prompts(List<String> prompts) {
        return of(prompts.size()).withPrompts(prompts);
    }

    public SampleRequest withCount(int n) {
        return new SampleRequest(n, batch, seed, labels, prompts, sampler, steps, guidance, autocast, settings);
    }

    public SampleRequest withBatch(int b) {
        return new SampleRequest(count, b, seed, labels, prompts, sampler, steps, guidance, autocast, settings);
    }

    public SampleRequest withSeed(long s) {
        return new SampleRequest(count, batch, s, labels, prompts, sampler, steps, guidance, autocast, settings);
    }

    public SampleRequest withLabels(long... y) {
        return new SampleRequest(count, batch, seed, y, null, sampler, steps, guidance, autocast, settings);
    }

    public SampleRequest withPrompts(List<String> p) {
        return new SampleRequest(count, batch, seed, null, p, sampler, steps, guidance, autocast, settings);
    }

    /** The sampler (null: the recipe's) and its steps (null: the recipe's default for it). */
    public SampleRequest withSampler(SamplerKind kind, Integer n) {
        return new SampleRequest(count, batch, seed, labels, prompts, kind, n, guidance, autocast, settings);
    }

    /** Settings of the sampler beyond kind and steps (a transport sampler's method, tolerances, diffusion, last step); null: none. */
    public SampleRequest withSettings(SamplerSettings s) {
        return new SampleRequest(count, batch, seed, labels, prompts, sampler, steps, guidance, autocast, s);
    }

    public SampleRequest withGuidance(Double scale) {
        return new SampleRequest(count, batch, seed, labels, prompts, sampler, steps, scale, autocast, settings);
    }

    /** Sample under autocast to {@code dtype} (bfloat16, float16), or null for full precision. */
    public SampleRequest withAutocast(DType dtype) {
        return new SampleRequest(count, batch, seed, labels, prompts, sampler, steps, guidance, dtype, settings);
    }

    public int batches() {
        return (int) (((long) count + batch - 1) / batch); // in long: count + batch - 1 may pass Integer.MAX_VALUE
    }

    /** Index of batch b's first image. */
    public int first(int b) {
        return Math.multiplyExact(b, batch);
    }

    /** Images in batch b. */
    public int size(int b) {
        return Math.min(batch, count - first(b));
    }

    /**
     * The generator seed of batch b: the seed itself for batch 0 (so one batch is the authors'
     * sample.py with that seed), then seeds a golden-ratio stride apart, so runs with nearby seeds
     * share no batches.
     */
    public static long batchSeed(long seed, long batch) {
        return seed + batch * 0x9E3779B97F4A7C15L;
    }

    @Override
    public String toString() {
        return "SampleRequest[count=" + count + ", batch=" + batch + ", seed=" + seed + ", labels=" + (labels == null ? "random" : Arrays.toString(labels))
                + ", prompts=" + prompts + ", sampler=" + sampler + ", steps=" + steps + ", guidance=" + guidance + ", autocast=" + autocast + ", settings=" + settings + "]";
    }
}
