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
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.optim.AdamW;
import dev.dit4j.nn.optim.Ema;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Diffusion training as the authors do it, for any {@link DiffusionModel} and any
 * {@link Conditioning}: the model's own objective (DiT and U-DiT: the ADM hybrid loss; U-ViT:
 * noise MSE), AdamW, EMA after every step, conditioning dropout for guidance (inside the model for
 * DiT, U-DiT and the class U-ViT, as their authors; by the trainer's {@code conditionDropout} for
 * text), optional gradient clipping and autocast (bf16 on CUDA, weights and optimizer state stay
 * float32). All randomness comes from seeded generators whose state is checkpointed, so a resumed
 * run continues exactly. A step never reads the loss back to the host.
 */
public final class DiffusionTrainer<M extends DiffusionModel<?>> implements AutoCloseable {
    /**
     * Training settings; the defaults are DiT's recipe. {@code autocast} is null for full
     * precision, else the dtype (bfloat16 / float16) the forward pass runs in.
     * {@code conditionDropout} replaces each sample's conditioning by its null form with that
     * probability before the forward (U-ViT's text models: 0.1; 0 where the model drops labels itself).
     */
    @RecordBuilder
    public record Options(double lr, double beta1, double beta2, double weightDecay, double emaDecay, double gradClip,
                          long seed, DType autocast, double conditionDropout) implements DiffusionTrainerOptionsBuilder.With {
        public Options {
            if (conditionDropout < 0 || conditionDropout >= 1) throw new IllegalArgumentException("condition dropout must lie in [0, 1), got " + conditionDropout);
        }

        /** DiT and U-DiT: AdamW lr 1e-4, betas (0.9, 0.999), no weight decay, EMA 0.9999. */
        public static Options dit() {
            return new Options(1e-4, 0.9, 0.999, 0, 0.9999, 0, 0, null, 0);
        }

        /** U-ViT's ImageNet-256 recipe: lr 2e-4, betas (0.99, 0.99), weight decay 0.03, EMA 0.9999. */
        public static Options uvit() {
            return new Options(2e-4, 0.99, 0.99, 0.03, 0.9999, 0, 0, null, 0);
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
    private long step;

    /**
     * Trains {@code model} with {@code objective} (the trainer owns and closes it);
     * {@code emaModel} is a second instance of the same config that becomes its average.
     */
    public DiffusionTrainer(M model, M emaModel, TrainingObjective objective, Options options) {
        this.model = model;
        this.emaModel = emaModel;
        this.objective = objective;
        this.options = options;
        this.device = model.namedParameters().values().iterator().next().device();
        this.ema = new Ema(model, emaModel, options.emaDecay());
        this.trainable = List.copyOf(model.namedTrainableParameters().values());
        this.optimizer = new AdamW(trainable, options.lr(), options.beta1(), options.beta2(), 1e-8, options.weightDecay());
        this.gen = Generator.create(options.seed(), device);
        dev.dit4j.nn.Torch.manualSeed(options.seed()); // the default generator drives label dropout
        model.train(true);
    }

    public long step() {
        return step;
    }

    /** DiT's objective (the ADM hybrid loss). */
    public DiffusionTrainer(M model, M emaModel, Options options) {
        this(model, emaModel, new AdmObjective(), options);
    }

    public M ema() {
        return emaModel;
    }

    /** One optimisation step on a batch of clean inputs x0 [N, C, H, W] and their conditioning; returns the mean loss (still on device). */
    public Tensor trainStep(Tensor x0, Conditioning c) {
        try (TensorScope s = TensorScope.open()) {
            if (x0.size(0) != c.batchSize())
                throw new IllegalArgumentException("batch of " + x0.size(0) + " inputs but " + c.batchSize() + " conditionings");
            Conditioning cond = options.conditionDropout() > 0 ? c.dropped(options.conditionDropout(), gen) : c;
            Tensor loss = objective.losses((xt, t, keep) -> forward(xt, t, cond, keep), x0, gen).mean();
            loss.backward();
            if (options.gradClip() > 0) Optim.clipGradNorm(trainable, options.gradClip()).close();
            optimizer.step();
            trainable.forEach(Tensor::zeroGrad); // only these have gradients; model.zeroGrad() rebuilds the name map every step
            ema.update();
            step++;
            return s.keep(loss.detach());
        }
    }

    /** The network on x_t, inside an autocast region when one is configured; the output in float32 for the loss. */
    private Tensor forward(Tensor xt, Tensor t, Conditioning c, Tensor keep) {
        if (options.autocast() == null) return model.forward(xt, t, c, keep);
        try (TensorScope s = TensorScope.open(); Autocast.Region r = Autocast.enable(device, options.autocast())) {
            return s.keep(model.forward(xt, t, c, keep).to(DType.FLOAT32));
        }
    }

    /** Writes model, EMA, optimizer, step and RNG state atomically (a crash leaves the previous checkpoint). */
    public void save(Path file, Map<String, String> metadata) {
        try (TensorScope s = TensorScope.open()) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            model.stateDict().forEach((k, v) -> all.put("model." + k, v));
            emaModel.stateDict().forEach((k, v) -> all.put("ema." + k, v));
            optimizer.stateDict().forEach((k, v) -> all.put("opt." + k, v));
            all.put("rng.trainer", gen.state());
            all.put("rng.default", Generator.defaultState(Device.CPU));
            Map<String, String> meta = new LinkedHashMap<>(metadata);
            meta.put("step", Long.toString(step));
            meta.put("config", model.describe());
            Safetensors.save(file, all, meta);
        }
    }

    /** Restores everything {@link #save} wrote; returns the checkpoint's metadata. */
    public Map<String, String> load(Path file) {
        try (Safetensors.Contents c = Safetensors.read(file)) {
            Map<String, Tensor> t = c.tensors();
            long savedStep = stepOf(c.metadata(), file); // checked before anything is restored
            restore(model, Weights.section(t, "model."), file, "model");
            restore(emaModel, Weights.section(t, "ema."), file, "ema");
            optimizer.loadStateDict(Weights.section(t, "opt."));
            gen.setState(require(t, "rng.trainer", file));
            Generator.setDefaultState(Device.CPU, require(t, "rng.default", file));
            step = savedStep;
            return c.metadata();
        }
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
