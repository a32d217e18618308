package dev.dit4j.models.train;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.Weights;
import dev.dit4j.nn.Autocast;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Optim;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.dist.DataParallel;
import dev.dit4j.nn.dist.ProcessGroup;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.optim.AdamW;
import dev.dit4j.nn.optim.Ema;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Diffusion training as the authors do it, for any {@link DiffusionModel} and any
 * {@link Conditioning}: the model's own objective (DiT and U-DiT: the ADM hybrid loss; U-ViT:
 * noise MSE), AdamW, EMA after every step (from a given step on), conditioning dropout for guidance (inside the model for
 * DiT, U-DiT and the class U-ViT, as their authors; by the trainer's {@code conditionDropout} for
 * text), optional gradient clipping and autocast (bf16 on CUDA, weights and optimizer state stay
 * float32). All randomness comes from seeded generators whose state is checkpointed, so a resumed
 * run continues exactly. A step never reads the loss back to the host.
 *
 * <p>Data-parallel ({@link #DiffusionTrainer(DiffusionModel, DiffusionModel, TrainingObjective,
 * Options, ProcessGroup)}): each rank trains on its own share of every batch; the replicas start
 * from rank 0's weights, their gradients are averaged in buckets after each backward pass
 * ({@link DataParallel}), so all ranks take the same step and stay bit-identical. Each rank draws
 * its own noise, timesteps and conditioning dropout (its generators are seeded from (seed, rank));
 * {@link #save} gathers every rank's generator states and rank 0 writes the checkpoint, which all
 * ranks {@link #load}.
 */
public final class DiffusionTrainer<M extends DiffusionModel<?>> implements Trainable, AutoCloseable {
    /**
     * Training settings; the defaults are DiT's recipe. {@code autocast} is null for full
     * precision, else the dtype (bfloat16 / float16) the forward pass runs in.
     * {@code conditionDropout} replaces each sample's conditioning by its null form with that
     * probability before the forward (U-ViT's text models: 0.1; 0 where the model drops labels itself).
     * {@code emaStart}: the EMA starts at that step, as composer's EMA with {@code ema_start}
     * (MicroDiT's 512 px stages): up to and including step {@code emaStart} it is a copy of the
     * weights, after every later step it decays; 0 decays from the first step.
     */
    @RecordBuilder
    public record Options(double lr, double beta1, double beta2, double weightDecay, double emaDecay, double gradClip,
                          long seed, DType autocast, double conditionDropout, long emaStart) implements DiffusionTrainerOptionsBuilder.With {
        public Options {
            if (conditionDropout < 0 || conditionDropout >= 1) throw new IllegalArgumentException("condition dropout must lie in [0, 1), got " + conditionDropout);
            if (emaStart < 0) throw new IllegalArgumentException("EMA start step must be >= 0, got " + emaStart);
        }

        /** DiT and U-DiT: AdamW lr 1e-4, betas (0.9, 0.999), no weight decay, EMA 0.9999. */
        public static Options dit() {
            return new Options(1e-4, 0.9, 0.999, 0, 0.9999, 0, 0, null, 0, 0);
        }

        /** U-ViT's ImageNet-256 recipe: lr 2e-4, betas (0.99, 0.99), weight decay 0.03, EMA 0.9999. */
        public static Options uvit() {
            return new Options(2e-4, 0.99, 0.99, 0.03, 0.9999, 0, 0, null, 0, 0);
        }

        public Options withBetas(double b1, double b2) {
            return with(b -> b.beta1(b1).beta2(b2));
        }
    }

    private final M model;
    private final M emaModel;
    private final Ema ema;
    private final List<Tensor> trainable;
    private final AdamW optimizer;
    private final TrainingObjective objective;
    private final Generator gen;
    private final Options options;
    private final Device device;
    private final ProcessGroup group;
    private final DataParallel parallel;
    private long step;

    /**
     * Trains {@code model} with {@code objective} (the trainer owns and closes it);
     * {@code emaModel} is a second instance of the same config that becomes its average.
     */
    public DiffusionTrainer(M model, M emaModel, TrainingObjective objective, Options options) {
        this(model, emaModel, objective, options, null);
    }

    /**
     * Data-parallel training as rank {@code group.rank()} of {@code group.size()} (null: one
     * process). Collective: every rank constructs its trainer, steps and saves in lockstep.
     */
    public DiffusionTrainer(M model, M emaModel, TrainingObjective objective, Options options, ProcessGroup group) {
        this.model = model;
        this.emaModel = emaModel;
        this.objective = objective;
        this.options = options;
        this.device = model.namedParameters().values().iterator().next().device();
        this.group = group;
        if (group != null) DataParallel.broadcastFromRankZero(group, model); // before the EMA copies it
        this.ema = new Ema(model, emaModel, options.emaDecay());
        this.trainable = List.copyOf(model.namedTrainableParameters().values());
        this.optimizer = new AdamW(trainable, options.lr(), options.beta1(), options.beta2(), 1e-8, options.weightDecay());
        this.parallel = group == null ? null : new DataParallel(group, trainable);
        long seed = rankSeed(options.seed(), rank());
        this.gen = Generator.create(seed, device);
        dev.dit4j.nn.Torch.manualSeed(seed); // the default generator drives label dropout
        model.train(true);
    }

    @Override
    public long step() {
        return step;
    }

    /** This process's rank (0 without a process group). */
    public int rank() {
        return group == null ? 0 : group.rank();
    }

    public int worldSize() {
        return group == null ? 1 : group.size();
    }

    /** Rank 0 keeps the run's seed (a 1-process run is rank 0); other ranks get distinct streams. */
    static long rankSeed(long seed, int rank) {
        return rank == 0 ? seed : seed + 0x9E3779B97F4A7C15L * rank;
    }

    /** DiT's objective (the ADM hybrid loss). */
    public DiffusionTrainer(M model, M emaModel, Options options) {
        this(model, emaModel, new AdmObjective(), options);
    }

    /** Sets the learning rate of the next steps (a {@link LrSchedule} sets it before each step). */
    public void learningRate(double lr) {
        optimizer.learningRate(lr);
    }

    public M ema() {
        return emaModel;
    }

    /** One optimisation step on a batch of clean inputs x0 [N, C, H, W] and their conditioning; returns the mean loss (still on device). */
    public Tensor trainStep(Tensor x0, Conditioning c) {
        if (x0.size(0) != c.batchSize())
            throw new IllegalArgumentException("batch of " + x0.size(0) + " inputs but " + c.batchSize() + " conditionings");
        Tensor loss = update(x0, c, step + 1 <= options.emaStart() ? 0 : options.emaDecay()); // not started yet: the EMA copies the weights
        step++;
        return loss;
    }

    /**
     * The training step captured once in a CUDA graph and replayed for every later batch of the
     * same shape: forward, loss, backward, clipping, AdamW and EMA launch as one graph, without
     * their host work. {@code x0} and {@code c} (labels or none, on the trainer's CUDA device) give
     * the shapes; the capture trains {@value GraphedTrainStep#WARMUPS} eager steps on them first.
     * See {@link GraphedTrainStep}.
     */
    public GraphedTrainStep graphed(Tensor x0, Conditioning c) {
        if (parallel != null) throw new IllegalArgumentException("a data-parallel step cannot be captured in a CUDA graph (its gradients are reduced from the host)");
        if (step < options.emaStart()) {
            throw new IllegalArgumentException("the EMA starts after step " + options.emaStart() + " and this is step " + step
                    + ": a captured step keeps one EMA decay, so capture once the EMA has started");
        }
        return new GraphedTrainStep(this, x0, c);
    }

    /** One update without the step count: loss, backward, (reduction), clipping, AdamW, EMA with {@code emaDecay}; the mean loss. */
    Tensor update(Tensor x0, Conditioning c, double emaDecay) {
        try (TensorScope s = TensorScope.open()) {
            Conditioning cond = options.conditionDropout() > 0 ? c.dropped(options.conditionDropout(), gen) : c;
            Tensor loss = objective.losses((xt, t, keep) -> forward(xt, t, cond, keep), x0, gen).mean();
            loss.backward();
            if (parallel != null) parallel.averageGradients();
            if (options.gradClip() > 0) Optim.clipGradNorm(trainable, options.gradClip()).close();
            optimizer.step();
            trainable.forEach(Tensor::zeroGrad); // only these have gradients; model.zeroGrad() rebuilds the name map every step
            ema.update(emaDecay);
            return s.keep(loss.detach());
        }
    }

    /** Counts a step taken by a {@link GraphedTrainStep}. */
    void stepTaken() {
        step++;
    }

    Options options() {
        return options;
    }

    Generator generator() {
        return gen;
    }

    Device device() {
        return device;
    }

    double learningRate() {
        return optimizer.learningRate();
    }

    /** The network on x_t, inside an autocast region when one is configured; the output in float32 for the loss. */
    private Tensor forward(Tensor xt, Tensor t, Conditioning c, Tensor keep) {
        if (options.autocast() == null) return model.forward(xt, t, c, keep);
        try (TensorScope s = TensorScope.open(); Autocast.Region r = Autocast.enable(device, options.autocast())) {
            return s.keep(model.forward(xt, t, c, keep).to(DType.FLOAT32));
        }
    }

    /**
     * Writes model, EMA, optimizer, step and RNG state atomically (a crash leaves the previous
     * checkpoint). Data-parallel: collective; rank 0 writes, with every rank's generator states,
     * and all ranks return once the file is complete.
     */
    @Override
    public void save(Path file, Map<String, String> metadata) {
        try (TensorScope s = TensorScope.open()) {
            Tensor trainerStates = gathered(gen.state());
            Tensor defaultStates = gathered(Generator.defaultState(Device.CPU));
            if (rank() == 0) {
                Map<String, Tensor> all = new LinkedHashMap<>();
                model.stateDict().forEach((k, v) -> all.put("model." + k, v));
                emaModel.stateDict().forEach((k, v) -> all.put("ema." + k, v));
                optimizer.stateDict().forEach((k, v) -> all.put("opt." + k, v));
                for (int r = 0; r < worldSize(); r++) {
                    all.put(rngKey("rng.trainer", r), trainerStates.select(0, r));
                    all.put(rngKey("rng.default", r), defaultStates.select(0, r));
                }
                Map<String, String> meta = new LinkedHashMap<>(metadata);
                meta.put("step", Long.toString(step));
                meta.put("config", model.describe());
                if (worldSize() > 1) meta.put("world_size", Integer.toString(worldSize()));
                Safetensors.save(file, all, meta);
            }
            if (group != null) group.barrier(); // no rank runs ahead of a checkpoint that may yet fail
        }
    }

    /** Rank 0's generator states keep the one-process names; rank r's get a suffix. */
    private static String rngKey(String name, int rank) {
        return rank == 0 ? name : name + ".rank" + rank;
    }

    /** [worldSize, n]: every rank's state (uint8 [n]), in rank order. */
    private Tensor gathered(Tensor state) {
        if (group == null) return state.unsqueeze(0);
        Device on = group.backend() == ProcessGroup.Backend.NCCL ? device : Device.CPU;
        Tensor mine = state.to(on);
        Tensor all = Tensor.zeros(new long[] {worldSize() * state.numel()}, state.dtype(), on);
        group.allGather(all, mine);
        return all.to(Device.CPU).view(worldSize(), state.numel());
    }

    /** Restores everything {@link #save} wrote; returns the checkpoint's metadata. */
    @Override
    public Map<String, String> load(Path file) {
        try (Safetensors.Contents c = Safetensors.read(file)) {
            Map<String, Tensor> t = c.tensors();
            long savedStep = stepOf(c.metadata(), file); // checked before anything is restored
            checkWorldSize(c.metadata(), file);
            restore(model, Weights.section(t, "model."), file, "model");
            restore(emaModel, Weights.section(t, "ema."), file, "ema");
            optimizer.loadStateDict(Weights.section(t, "opt."));
            gen.setState(require(t, rngKey("rng.trainer", rank()), file));
            Generator.setDefaultState(Device.CPU, require(t, rngKey("rng.default", rank()), file));
            step = savedStep;
            return c.metadata();
        }
    }

    /**
     * Checks, before a run does any other work, that {@code checkpoint} is one that {@link #load}
     * can restore into a trainer of {@code model}: readable, saved from the same configuration,
     * with the model, EMA, optimizer and RNG tensors of the right names and shapes and a valid
     * step. Reads the header only. Returns the checkpoint's metadata, for the caller to check what
     * it adds (a {@link TrainingLoop} over a {@code BatchLoader}: the data position, "loader").
     *
     * @throws IllegalArgumentException naming the checkpoint and what does not fit
     */
    public static Map<String, String> checkResumable(Path checkpoint, DiffusionModel<?> model) {
        try (WeightSource c = Safetensors.index(checkpoint)) {
            Map<String, String> meta = c.metadata();
            String config = meta.get("config");
            if (config == null) throw notResumable(checkpoint, "has no 'config' metadata: it is not a dit4j training checkpoint");
            if (!config.equals(model.describe())) {
                throw notResumable(checkpoint, "was saved from " + config + ", but this run builds " + model.describe()
                        + ": pass the options that run used, or start without --resume");
            }
            List<String> problems = new ArrayList<>();
            Map<String, long[]> params = new LinkedHashMap<>();
            model.stateDict().forEach((k, t) -> params.put(k, t.shape()));
            compare("model.", params, c, problems);
            compare("ema.", params, c, problems);
            Map<String, long[]> moments = new LinkedHashMap<>();
            List<Tensor> trainable = List.copyOf(model.namedTrainableParameters().values());
            for (int i = 0; i < trainable.size(); i++) { // the optimizer's state, by parameter index
                moments.put(i + ".exp_avg", trainable.get(i).shape());
                moments.put(i + ".exp_avg_sq", trainable.get(i).shape());
                moments.put(i + ".step", null);
            }
            compare("opt.", moments, c, problems);
            for (String key : List.of("rng.trainer", "rng.default")) if (c.shape(key) == null) problems.add("no '" + key + "'");
            if (!problems.isEmpty()) throw notResumable(checkpoint, "does not fit " + model.describe() + ": " + String.join("; ", problems));
            try {
                if (Long.parseLong(meta.getOrDefault("step", "")) < 0) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw notResumable(checkpoint, "has no valid 'step' metadata, got '" + meta.get("step") + "'");
            }
            return meta;
        }
    }

    /**
     * Adds to {@code problems} the keys under {@code prefix} that are missing, unexpected or
     * mis-shaped against {@code shapes} (null: any shape), a few of each.
     */
    private static void compare(String prefix, Map<String, long[]> shapes, WeightSource saved, List<String> problems) {
        List<String> missing = new ArrayList<>(), misshaped = new ArrayList<>(), unexpected = new ArrayList<>();
        shapes.forEach((k, shape) -> {
            long[] s = saved.shape(prefix + k);
            if (s == null) missing.add(prefix + k);
            else if (shape != null && !Arrays.equals(s, shape)) {
                misshaped.add(prefix + k + " " + Arrays.toString(s) + ", expected " + Arrays.toString(shape));
            }
        });
        for (String k : saved.keys()) if (k.startsWith(prefix) && !shapes.containsKey(k.substring(prefix.length()))) unexpected.add(k);
        report("missing", missing, problems);
        report("mis-shaped", misshaped, problems);
        report("unexpected", unexpected, problems);
    }

    private static void report(String what, List<String> keys, List<String> problems) {
        if (keys.isEmpty()) return;
        problems.add(keys.size() + " " + what + " (" + String.join(", ", keys.subList(0, Math.min(3, keys.size())))
                + (keys.size() > 3 ? ", ..." : "") + ")");
    }

    private static IllegalArgumentException notResumable(Path checkpoint, String what) {
        return new IllegalArgumentException("checkpoint " + checkpoint + " " + what);
    }

    private static void restore(Module target, Map<String, Tensor> section, Path file, String name) {
        try {
            target.loadStateDict(section);
        } catch (StateDictMismatch e) {
            throw e.in("checkpoint " + file + ", section '" + name + ".'");
        }
    }

    private static long stepOf(Map<String, String> metadata, Path file) {
        String text = metadata.getOrDefault("step", "0");
        try {
            long step = Long.parseLong(text);
            if (step >= 0) return step;
        } catch (NumberFormatException e) {
            // reported below, with the file and the field
        }
        String shown = text.length() <= 40 ? text : text.substring(0, 40) + "...";
        throw new CheckpointException("checkpoint " + file + " has metadata field 'step' = '" + shown + "', not a step count (a non-negative integer)");
    }

    /** Each rank resumes its own generators, so the world must be the one that wrote them. */
    private void checkWorldSize(Map<String, String> metadata, Path file) {
        String saved = metadata.getOrDefault("world_size", "1");
        if (!saved.equals(Integer.toString(worldSize()))) {
            throw new CheckpointException("checkpoint " + file + " was written by " + saved + " process(es) (metadata 'world_size') but this run has "
                    + worldSize() + ": resume with the same number of processes");
        }
    }

    private static Tensor require(Map<String, Tensor> t, String key, Path file) {
        Tensor v = t.get(key);
        if (v == null) throw new IllegalArgumentException("checkpoint " + file + " has no '" + key + "'");
        return v;
    }

    @Override
    public void close() {
        optimizer.close();
        gen.close();
        objective.close();
    }
}
