package dev.dit4j.models.train;

import dev.dit4j.models.DiT;
import dev.dit4j.models.Weights;
import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Optim;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.optim.AdamW;
import dev.dit4j.nn.optim.Ema;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DiT training as the reference does it: uniform timesteps, q_sample with fresh noise, the hybrid
 * MSE + VLB loss, AdamW (lr 1e-4, no weight decay by default), EMA after every step, label dropout
 * inside the model. All randomness comes from seeded generators whose state is checkpointed,
 * so a resumed run continues exactly. A step never reads the loss back to the host.
 */
public final class DiffusionTrainer implements AutoCloseable {
    /** Training settings; the defaults are DiT's recipe. */
    public record Options(double lr, double weightDecay, double emaDecay, double gradClip, long seed) {
        public static Options dit() {
            return new Options(1e-4, 0, 0.9999, 0, 0);
        }

        public Options withLr(double v) { return new Options(v, weightDecay, emaDecay, gradClip, seed); }
        public Options withEmaDecay(double v) { return new Options(lr, weightDecay, v, gradClip, seed); }
        public Options withGradClip(double v) { return new Options(lr, weightDecay, emaDecay, v, seed); }
        public Options withSeed(long v) { return new Options(lr, weightDecay, emaDecay, gradClip, v); }
    }

    private final DiT model;
    private final DiT emaModel;
    private final Ema ema;
    private final List<Tensor> trainable;
    private final AdamW optimizer;
    private final GaussianDiffusion diffusion = GaussianDiffusion.linear(1000);
    private final Generator gen;
    private final Options options;
    private final Device device;
    private long step;

    /** Trains {@code model}; {@code emaModel} is a second instance of the same config that becomes its average. */
    public DiffusionTrainer(DiT model, DiT emaModel, Options options) {
        this.model = model;
        this.emaModel = emaModel;
        this.options = options;
        this.device = model.namedParameters().values().iterator().next().device();
        this.ema = new Ema(model, emaModel, options.emaDecay());
        this.trainable = List.copyOf(model.namedTrainableParameters().values());
        this.optimizer = new AdamW(trainable, options.lr(), 0.9, 0.999, 1e-8, options.weightDecay());
        this.gen = Generator.create(options.seed(), device);
        dev.dit4j.nn.Torch.manualSeed(options.seed()); // the default generator drives label dropout
        model.train(true);
    }

    public long step() {
        return step;
    }

    public DiT ema() {
        return emaModel;
    }

    /** One optimisation step on a batch of clean inputs x0 [N, C, H, W] and labels y [N]; returns the mean loss (still on device). */
    public Tensor trainStep(Tensor x0, Tensor y) {
        try (TensorScope s = TensorScope.open()) {
            long n = x0.size(0);
            Tensor t = Tensor.randint(0, 1000, new long[] {n}, device, gen);
            Tensor noise = Tensor.randn(x0.shape(), x0.dtype(), device, gen);
            Tensor xt = diffusion.qSample(x0, t, noise);
            Tensor out = model.forward(xt, t, y);
            Tensor loss = diffusion.trainingLosses(out, x0, xt, t, noise).loss().mean();
            loss.backward();
            if (options.gradClip() > 0) Optim.clipGradNorm(trainable, options.gradClip()).close();
            optimizer.step();
            model.zeroGrad();
            ema.update();
            step++;
            return s.keep(loss.detach());
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
            meta.put("config", model.config().toString());
            Safetensors.save(file, all, meta);
        }
    }

    /** Restores everything {@link #save} wrote; returns the checkpoint's metadata. */
    public Map<String, String> load(Path file) {
        try (Safetensors.Contents c = Safetensors.read(file)) {
            Map<String, Tensor> t = c.tensors();
            model.loadStateDict(Weights.section(t, "model."));
            emaModel.loadStateDict(Weights.section(t, "ema."));
            optimizer.loadStateDict(Weights.section(t, "opt."));
            gen.setState(require(t, "rng.trainer", file));
            Generator.setDefaultState(Device.CPU, require(t, "rng.default", file));
            step = Long.parseLong(c.metadata().getOrDefault("step", "0"));
            return c.metadata();
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
    }
}
