package dev.dit4j.models.train;

import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Drives a {@link Trainable} through optimisation steps until its budget ends, for any trainer and
 * any data: the budget (a step count, a time budget, or both: whichever ends first), progress
 * (the loss read back every {@code logEvery} steps and never otherwise, so a step does not wait
 * for the device), atomic checkpoints every {@code saveEvery} steps and at the end, exact resume,
 * data-parallel agreement on when to stop, and hooks every K steps (samples, evaluations).
 *
 * <pre>{@code
 * try (DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(net, ema, new AdmObjective(), options);
 *      BatchLoader loader = BatchLoader.builder(data, 64).seed(0).build()) {
 *     TrainingLoop.Result result = TrainingLoop.builder()
 *             .steps(10_000).minutes(30)
 *             .logEvery(100).batchSize(64).listener(p -> System.out.println(p.step() + " " + p.loss()))
 *             .checkpoint(out.resolve("checkpoint.safetensors"), 1000)
 *             .every(2000, step -> writeSamples(trainer.ema(), step))
 *             .build()
 *             .run(trainer, loader, b -> trainer.trainStep(b.images(), Conditioning.labels(b.labels(), 10)));
 * }
 * }</pre>
 *
 * <p><b>Data.</b> From a {@link BatchLoader} ({@link #run(Trainable, BatchLoader, Step)}), whose
 * position each checkpoint records (metadata {@code "loader"}) and a resumed run restores, so that
 * it continues exactly as an uninterrupted run would: same batches, same weights. Or from a
 * function ({@link #run(Trainable, Supplier, Step)}: rendered, cropped, synthetic batches), whose
 * own state is its business. A batch that is {@link AutoCloseable} is closed after its step, and
 * tensors made during the step (the batch's included) are freed then, bar what the step keeps.
 *
 * <p><b>Budget.</b> {@code steps} counts the trainer's steps in all, those of the run a checkpoint
 * continues included; {@code minutes} runs from this loop's start and is checked before each step,
 * so the run stops at the first step boundary past it. {@link Builder#stopWhen} ends it early (a
 * SIGTERM, say) at a step boundary, its final checkpoint written as at a normal end.
 *
 * <p><b>Data parallelism</b> ({@link Builder#dataParallel}): every rank runs the loop in lockstep;
 * rank 0's reading of the clock and every rank's stop request ({@link Builder#stopWhen}: a signal
 * one rank received) are agreed in one collective before each step so that all stop at the same step,
 * checkpoints are collective ({@link Trainable#save}), the listener hears from rank 0 only and
 * hooks run on every rank (a hook that writes files checks {@link DataParallelJob#isMain()}).
 */
public final class TrainingLoop {
    /**
     * One optimisation step on {@code batch}: it advances the trainer's {@link Trainable#step()}
     * by one and returns the loss, still on the device (the loop reads it back only when it
     * reports). A vector of loss terms may stand for it, the loss first (the listener gets all).
     */
    @FunctionalInterface
    public interface Step<B> {
        Tensor apply(B batch);
    }

    /** Hears about the run, on rank 0. */
    @FunctionalInterface
    public interface Listener {
        /** Before the first step, once a resumed run is restored: the step the run starts from. */
        default void started(long step) {}

        /** Every {@code logEvery} steps: the loss read back. */
        void progress(Progress progress);

        /** After each checkpoint is written. */
        default void saved(Path checkpoint, long step) {}
    }

    /**
     * A report after {@code step}: its loss (and, when the step returns several, every term, the
     * loss first), the images per second of this run so far ({@code NaN} without
     * {@link Builder#batchSize}) and the seconds since the loop started.
     */
    public record Progress(long step, double loss, double[] terms, double imagesPerSecond, double seconds) {}

    /** The loss read back after {@code step}. */
    public record Loss(long step, double value) {}

    /**
     * How a run went: the trainer's step at the end, the steps this run took, its seconds
     * (checkpoints included), the losses read back (rank 0; empty elsewhere) and its images per
     * second ({@code NaN} without {@link Builder#batchSize}); {@code stopped} when {@link Builder#stopWhen}
     * ended it before its budget.
     */
    public record Result(long step, long stepsRun, double seconds, List<Loss> losses, double imagesPerSecond, boolean stopped) {
        /** A run that ended by its budget. */
        public Result(long step, long stepsRun, double seconds, List<Loss> losses, double imagesPerSecond) {
            this(step, stepsRun, seconds, losses, imagesPerSecond, false);
        }
    }

    private record Hook(long every, LongConsumer action) {}

    private final long steps;
    private final double budgetSeconds;
    private final int logEvery;
    private final boolean logFinalStep;
    private final int batchSize;
    private final Listener listener;
    private final Path checkpoint;
    private final long saveEvery;
    private final Map<String, String> metadata;
    private final Path resume;
    private final DataParallelJob job;
    private final List<Hook> hooks;
    private final BooleanSupplier stop;

    private TrainingLoop(Builder b) {
        this.steps = b.steps;
        this.budgetSeconds = b.minutes * 60;
        this.logEvery = b.logEvery;
        this.logFinalStep = b.logFinalStep;
        this.batchSize = b.batchSize;
        this.listener = b.listener;
        this.checkpoint = b.checkpoint;
        this.saveEvery = b.saveEvery;
        this.metadata = Map.copyOf(b.metadata);
        this.resume = b.resume;
        this.job = b.job;
        this.hooks = List.copyOf(b.hooks);
        this.stop = b.stop;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The loop's settings; at least one of {@link #steps} and {@link #minutes} must be set. */
    public static final class Builder {
        private long steps = Long.MAX_VALUE;
        private double minutes = Double.POSITIVE_INFINITY;
        private int logEvery = 100;
        private boolean logFinalStep;
        private int batchSize;
        private Listener listener = p -> {};
        private Path checkpoint;
        private long saveEvery = Long.MAX_VALUE;
        private Map<String, String> metadata = Map.of();
        private Path resume;
        private DataParallelJob job;
        private final List<Hook> hooks = new ArrayList<>();
        private BooleanSupplier stop;

        private Builder() {}

        /**
         * Stop early, at the next step boundary, once {@code condition} holds (a SIGTERM was
         * received, say): the step under way finishes, the final checkpoint is written as at a
         * normal end, and the result says {@code stopped}. Asked before every step; under data
         * parallelism every rank asks its own and all stop at the same step once any says so.
         */
        public Builder stopWhen(BooleanSupplier condition) {
            this.stop = java.util.Objects.requireNonNull(condition);
            return this;
        }

        /** Stop once the trainer has taken this many steps in all. */
        public Builder steps(long total) {
            if (total < 0) throw new IllegalArgumentException("steps must be >= 0, got " + total);
            this.steps = total;
            return this;
        }

        /** Stop at the first step boundary this long after the loop starts. */
        public Builder minutes(double minutes) {
            if (!(minutes > 0)) throw new IllegalArgumentException("minutes must be positive, got " + minutes);
            this.minutes = minutes;
            return this;
        }

        /** Read the loss back and report it every {@code n} steps (default 100). */
        public Builder logEvery(int n) {
            if (n <= 0) throw new IllegalArgumentException("logEvery must be positive, got " + n);
            this.logEvery = n;
            return this;
        }

        /** Report the step that reaches the {@link #steps} budget too, if it is not a multiple of {@link #logEvery}. */
        public Builder logFinalStep() {
            this.logFinalStep = true;
            return this;
        }

        /** Images per step, all ranks together: the reports' images per second. */
        public Builder batchSize(int imagesPerStep) {
            if (imagesPerStep <= 0) throw new IllegalArgumentException("batch size must be positive, got " + imagesPerStep);
            this.batchSize = imagesPerStep;
            return this;
        }

        public Builder listener(Listener listener) {
            this.listener = java.util.Objects.requireNonNull(listener);
            return this;
        }

        /** Checkpoint to {@code file} every {@code every} steps and at the end. */
        public Builder checkpoint(Path file, long every) {
            if (every <= 0) throw new IllegalArgumentException("checkpoint interval must be positive, got " + every);
            this.checkpoint = java.util.Objects.requireNonNull(file);
            this.saveEvery = every;
            return this;
        }

        /** Checkpoint to {@code file} at the end only. */
        public Builder checkpoint(Path file) {
            return checkpoint(file, Long.MAX_VALUE);
        }

        /** Added to every checkpoint's metadata (what a sampler needs to know of the run, say). */
        public Builder metadata(Map<String, String> metadata) {
            this.metadata = Map.copyOf(metadata);
            return this;
        }

        /** Continue the run that wrote {@code checkpoint} (null: start afresh). */
        public Builder resume(Path checkpoint) {
            this.resume = checkpoint;
            return this;
        }

        /** Train as one rank of {@code job} (null: one process). */
        public Builder dataParallel(DataParallelJob job) {
            this.job = job;
            return this;
        }

        /** Calls {@code hook} with the step after every {@code steps}-th step (after that step's checkpoint). */
        public Builder every(long steps, LongConsumer hook) {
            if (steps <= 0) throw new IllegalArgumentException("hook interval must be positive, got " + steps);
            hooks.add(new Hook(steps, java.util.Objects.requireNonNull(hook)));
            return this;
        }

        public TrainingLoop build() {
            if (steps == Long.MAX_VALUE && minutes == Double.POSITIVE_INFINITY) {
                throw new IllegalStateException("a training loop needs a budget: steps, minutes or both");
            }
            return new TrainingLoop(this);
        }
    }

    /** Trains on {@code loader}'s batches; its position goes into each checkpoint and comes back on resume. */
    public Result run(Trainable trainer, BatchLoader loader, Step<? super BatchLoader.Batch> step) {
        return drive(trainer, loader::next, step, loader);
    }

    /** Trains on the batches {@code batches} makes. */
    public <B> Result run(Trainable trainer, Supplier<? extends B> batches, Step<? super B> step) {
        return drive(trainer, batches, step, null);
    }

    private <B> Result drive(Trainable trainer, Supplier<? extends B> batches, Step<? super B> step, BatchLoader loader) {
        if (resume != null) {
            Map<String, String> saved = trainer.load(resume);
            if (loader != null) loader.restore(BatchLoader.State.decode(saved.get("loader"), "checkpoint " + resume));
        }
        boolean main = job == null || job.isMain();
        if (main) listener.started(trainer.step());
        long start = System.nanoTime(), first = trainer.step(), savedAt = -1;
        List<Loss> losses = new ArrayList<>();
        boolean stopped = false;
        while (trainer.step() < steps) {
            Verdict v = verdict(start);
            if (v != Verdict.GO) {
                stopped = v == Verdict.STOP;
                break;
            }
            long before = trainer.step();
            B batch = null;
            try (TensorScope s = TensorScope.open()) {
                batch = batches.get();
                Tensor loss = step.apply(batch);
                if (trainer.step() != before + 1) {
                    throw new IllegalStateException("a step must take one optimisation step; the trainer went from step " + before + " to " + trainer.step());
                }
                long n = trainer.step();
                if (main && (n % logEvery == 0 || logFinalStep && n == steps)) {
                    double[] terms = loss.toDoubleArray(); // the only read-back: it waits for the device
                    double seconds = seconds(start);
                    losses.add(new Loss(n, terms[0]));
                    listener.progress(new Progress(n, terms[0], terms, (n - first) * (double) batchSizeOrNaN() / seconds, seconds));
                }
            } finally {
                if (batch instanceof AutoCloseable c) close(c);
            }
            long n = trainer.step();
            if (checkpoint != null && n % saveEvery == 0) {
                save(trainer, loader, main);
                savedAt = n;
            }
            for (Hook h : hooks) if (n % h.every() == 0) h.action().accept(n);
        }
        if (checkpoint != null && savedAt != trainer.step()) save(trainer, loader, main);
        double seconds = seconds(start);
        long run = trainer.step() - first;
        return new Result(trainer.step(), run, seconds, List.copyOf(losses), run * batchSizeOrNaN() / seconds, stopped);
    }

    private enum Verdict { GO, TIME_UP, STOP }

    /**
     * Whether to take another step: the time budget as rank 0's clock sees it, and the stop
     * condition as any rank sees it, agreed by one collective when data-parallel; every rank asks
     * before every step.
     */
    private Verdict verdict(long start) {
        if (budgetSeconds == Double.POSITIVE_INFINITY && stop == null) return Verdict.GO;
        boolean timeUp = budgetSeconds != Double.POSITIVE_INFINITY && seconds(start) >= budgetSeconds;
        boolean stopNow = stop != null && stop.getAsBoolean();
        if (job != null && job.isDistributed()) {
            boolean[] agreed = job.agree(timeUp, stopNow);
            timeUp = agreed[0];
            stopNow = agreed[1];
        }
        return stopNow ? Verdict.STOP : timeUp ? Verdict.TIME_UP : Verdict.GO;
    }

    private void save(Trainable trainer, BatchLoader loader, boolean main) {
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        if (loader != null) meta.put("loader", loader.state().encode());
        trainer.save(checkpoint, meta);
        if (main) listener.saved(checkpoint, trainer.step());
    }

    private double batchSizeOrNaN() {
        return batchSize > 0 ? batchSize : Double.NaN;
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing a batch failed", e);
        }
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
