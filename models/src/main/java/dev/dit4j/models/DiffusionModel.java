package dev.dit4j.models;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A diffusion network (DiT, U-ViT, U-DiT) as the trainer, the objectives, the samplers and the
 * command line see it: a forward on noisy inputs, timesteps and a {@link Conditioning}, and the
 * facts that decide how it is trained and guided.
 */
public abstract class DiffusionModel<C extends DiffusionConfig<?>> extends Module {
    private final C config;

    protected DiffusionModel(VarBuilder vb, C config) {
        super(vb);
        this.config = config;
    }

    public C config() {
        return config;
    }

    /** The model's name and configuration, written to checkpoint metadata. */
    public String describe() {
        return config.toString();
    }

    /**
     * Writes the weights to a safetensors file atomically with the configuration ('config'
     * metadata) and {@code metadata} (a recipe's, {@code Recipe.metadata()}), so that
     * {@code DiffusionPipeline} and {@code ModelFamily.probe} rebuild this model from the file alone.
     */
    public void save(Path file, Map<String, String> metadata) {
        Map<String, String> all = new LinkedHashMap<>(metadata);
        all.put("config", describe());
        try (TensorScope s = TensorScope.open()) {
            Safetensors.save(file, stateDict(), all);
        }
    }

    /**
     * x [N, C, H, W], t [N] network timesteps (float, may be fractional), the batch's
     * conditioning -> raw output [N, outC, H, W]. A model that drops labels itself (DiT, U-DiT and
     * the class U-ViT, as their authors) does so only in training mode.
     */
    public abstract Tensor forward(Tensor x, Tensor t, Conditioning c);

    /**
     * The forward with only the tokens {@code keep} [N, K] (int64) carried past the model's
     * masking point, the others filled in (MicroDiT's deferred masking); null keeps every token.
     * Models without masking refuse a mask.
     */
    public Tensor forward(Tensor x, Tensor t, Conditioning c, Tensor keep) {
        if (keep != null) throw new UnsupportedOperationException(config.name() + " has no token masking");
        return forward(x, t, c);
    }

    /** The dtype of the weights (float32 unless the model was loaded or cast to another). */
    public DType dtype() {
        return parameters().getFirst().dtype();
    }

    /** True when the output holds 2C channels: epsilon then the learned-range variance (DiT, U-DiT). */
    public boolean learnsSigma() {
        return config.learnSigma();
    }

    /** The labels of a class-conditional model's conditioning; any other kind is refused by name. */
    protected Tensor labelsOf(Conditioning c) {
        if (c instanceof Conditioning.Labels labels) return labels.labels();
        throw new IllegalArgumentException(config.name() + " is class-conditional; got " + c.getClass().getSimpleName() + " conditioning");
    }

    /** Switches to the form the model samples in: eval mode, and whatever its authors merge for inference. */
    public void inferenceMode() {
        eval();
    }

    /**
     * Classifier-free guidance with weight {@code scale} (eps_u + scale (eps_c - eps_u), 1 = none)
     * in the form this model's authors sample with; see {@link Guided}.
     */
    public Guided guided(Conditioning c, double scale) {
        return new Guided(this, c, scale);
    }

    /**
     * The output channels guidance combines: every epsilon channel (a variance head is the
     * conditional one). DiT and U-DiT override it with their authors' choice.
     */
    protected int guidedChannels() {
        return config.inChannels();
    }

    /** The guided prediction from the conditional and unconditional ones: eps_u + scale (eps_c - eps_u). */
    protected Tensor guide(Tensor cond, Tensor uncond, double scale) {
        return uncond.add(cond.sub(uncond).mul(scale));
    }
}
