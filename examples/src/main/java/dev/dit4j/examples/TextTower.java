package dev.dit4j.examples;

import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Optim;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.optim.AdamW;
import dev.dit4j.nn.optim.Ema;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The text-to-image example's caption encoder: a small OpenCLIP-layout text tower with the real
 * CLIP BPE tokenizer over a fixed list of training captions, either frozen at its seeded random
 * initialisation (every caption encoded once) or trained with the diffusion model: then each
 * batch's captions (and the empty caption, U-ViT's null) run through it with gradients, its own
 * AdamW (the diffusion trainer's settings; AdamW is per parameter, so this equals one optimizer
 * over both) steps after each diffusion step, and prompts are sampled from an EMA of it, as the
 * diffusion model is.
 */
final class TextTower implements AutoCloseable {
    private final ClipTextConfig config;
    private final ClipTokenizer tokenizer;
    private final ClipTextEncoder encoder;
    private final Device device;
    /** Frozen: every training caption's embedding then the empty caption's, [P + 1, T, D]. Trained: their token ids [P + 1, T]. */
    private final Tensor captions;
    private final int count;
    // trained only (else null)
    private final ClipTextEncoder average;
    private final Ema ema;
    private final AdamW optimizer;
    private final List<Tensor> trainable;
    private final double gradClip;

    /**
     * A tower of {@code config} for {@code trainingCaptions}; {@code train} gives it an optimizer
     * with learning rate {@code lr}, gradient clip {@code gradClip} and EMA decay {@code emaDecay}.
     */
    TextTower(ClipTextConfig config, ClipTokenizer tokenizer, List<String> trainingCaptions, boolean train, double lr, double gradClip,
              double emaDecay, Device dev, long seed) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.device = dev;
        this.count = trainingCaptions.size();
        this.gradClip = gradClip;
        List<String> all = new ArrayList<>(trainingCaptions);
        all.add("");
        this.encoder = config.create(dev, seed);
        if (!train) {
            encoder.eval();
            average = null;
            ema = null;
            optimizer = null;
            trainable = null;
            try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
                List<Tensor> parts = new ArrayList<>();
                for (int from = 0; from < all.size(); from += 256) parts.add(encoder.encode(tokenizer, all.subList(from, Math.min(all.size(), from + 256))));
                captions = s.keep(Tensor.cat(parts, 0));
            }
        } else {
            encoder.train(true);
            average = config.create(dev, seed);
            ema = new Ema(encoder, average, emaDecay);
            trainable = List.copyOf(encoder.namedTrainableParameters().values());
            optimizer = new AdamW(trainable, lr, 0.9, 0.999, 1e-8, 0);
            try (TensorScope s = TensorScope.open()) {
                captions = s.keep(tokenizer.tokenize(all).to(dev));
            }
        }
    }

    boolean trained() {
        return optimizer != null;
    }

    /** The embeddings [N, T, D] of training captions {@code index}: with gradients into the tower when it is trained. */
    Tensor training(long[] index) {
        try (TensorScope s = TensorScope.open()) {
            Tensor rows = captions.indexSelect(0, Tensor.of(index, index.length).to(device));
            return s.keep(trained() ? encoder.forward(rows) : rows);
        }
    }

    /** The empty caption's embedding [1, T, D] for a training step (U-ViT's null caption). */
    Tensor trainingEmpty() {
        return training(new long[] {count});
    }

    /** After each diffusion step: the tower's own step, gradient clip, zeroed gradients and EMA (nothing when frozen). */
    void step() {
        if (!trained()) return;
        if (gradClip > 0) Optim.clipGradNorm(trainable, gradClip).close();
        optimizer.step();
        trainable.forEach(Tensor::zeroGrad);
        ema.update();
    }

    /** The embeddings [N, T, D] of any prompts, from the tower that sampling uses (the EMA when trained); no gradients. */
    Tensor encode(List<String> prompts) {
        try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
            ClipTextEncoder use = trained() ? average : encoder;
            List<Tensor> parts = new ArrayList<>();
            for (int from = 0; from < prompts.size(); from += 256) parts.add(use.encode(tokenizer, prompts.subList(from, Math.min(prompts.size(), from + 256))));
            return s.keep(Tensor.cat(parts, 0));
        }
    }

    /** Writes the tower that sampling uses, as {@code sample --text-encoder} reads it. */
    void save(Path file) {
        Safetensors.save(file, (trained() ? average : encoder).stateDict(), Map.of("heads", Integer.toString(config.heads())));
    }

    String describe() {
        return String.format("%s (width %d, %d layers, %s), CLIP BPE vocabulary", config.name(), config.width(), config.layers(),
                trained() ? "trained with the model" : "random init, frozen");
    }

    @Override
    public void close() {
        captions.close();
        encoder.close();
        if (trained()) {
            optimizer.close();
            average.close();
        }
    }
}
