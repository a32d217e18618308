package dev.dit4j.models.sampling;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.Guided;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;
import java.util.List;

/**
 * One batch of class-conditional samples drawn as the authors' scripts draw it, so that a seed
 * gives their picture. From one generator: the initial noise z [N, C, H, W] ({@code randn}) and,
 * when no labels are given, the labels ({@code randint} over the classes), in the order of the
 * authors' scripts: z first in DiT's sample_ddp.py and U-ViT's eval.py and eval_ldm.py, the labels
 * first in U-ViT's eval_ldm_discrete.py ({@link Draw}). With guidance (scale above 1) the batch is
 * doubled as DiT's sample.py doubles it, {@code [z; z]} with labels {@code [y; null]}, the
 * sampler's per-step noise is drawn for the doubled batch, the network runs in its authors'
 * guided form (DiT's and U-DiT's forward_with_cfg, U-ViT's eps_c + s (eps_c - eps_u) with
 * s = scale - 1) and the first half is kept; without guidance the plain forward runs on z.
 *
 * <p>A model whose weights are in a lower precision (bfloat16, float16) sees its input in that
 * dtype and hands its output back in float32: the weights are cast once, not at every step as
 * under autocast, and the sampler's arithmetic stays in float32.
 *
 * <p>The scale is DiT's: eps_u + scale (eps_c - eps_u), 1 meaning no guidance; U-ViT's
 * configs' scale s is scale - 1 here (their 0.4 is 1.4).
 */
public final class SampleChain {
    private SampleChain() {}

    /** Which comes first from the generator when the labels are drawn too. */
    public enum Draw { NOISE_FIRST, LABELS_FIRST }

    /** Latents [N, C, H, W] and the int64 labels [N] they were drawn for (null for a model without labels). */
    public record Batch(Tensor latents, Tensor labels) implements AutoCloseable {
        @Override
        public void close() {
            latents.close();
            if (labels != null) labels.close();
        }
    }

    /**
     * Draws {@code shape[0]} samples of {@code model} (in eval mode) with {@code sampler}: for
     * {@code labels} (null: random classes, drawn after the noise), guided with {@code scale}.
     */
    public static Batch sample(DiffusionModel<?> model, Sampler sampler, long[] shape, long[] labels, double scale, Generator gen) {
        return sample(model, sampler, shape, labels, scale, gen, Draw.NOISE_FIRST);
    }

    /** As {@link #sample(DiffusionModel, Sampler, long[], long[], double, Generator)}, drawing random labels and noise in {@code order}. */
    public static Batch sample(DiffusionModel<?> model, Sampler sampler, long[] shape, long[] labels, double scale, Generator gen, Draw order) {
        int classes = model.config().numClasses();
        if (shape.length != 4) throw new IllegalArgumentException("sample shape must be [N, C, H, W], got " + Arrays.toString(shape));
        long n = shape[0];
        if (labels != null && labels.length != n) throw new IllegalArgumentException(labels.length + " labels for " + n + " samples");
        if (labels != null && classes <= 0) throw new IllegalArgumentException(model.config().name() + " takes no class labels");
        for (long y : labels == null ? new long[0] : labels) {
            if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " is not a class of " + model.config().name() + " (0 to " + (classes - 1) + ")");
        }
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad()) {
            Tensor y = null, z = null;
            if (order == Draw.NOISE_FIRST) z = Tensor.randn(shape, DType.FLOAT32, gen.device(), gen);
            if (classes > 0) y = labels != null ? Tensor.of(labels, n).to(gen.device()) : Tensor.randint(0, classes, new long[] {n}, gen.device(), gen);
            if (z == null) z = Tensor.randn(shape, DType.FLOAT32, gen.device(), gen);
            Conditioning c = y == null ? Conditioning.none(n) : Conditioning.labels(y, classes);
            return new Batch(s.keep(sample(model, sampler, c, z, scale, gen)), y == null ? null : s.keep(y));
        }
    }

    /**
     * Samples from the noise {@code z} [N, C, H, W] for the conditioning {@code c} (labels, text or
     * none): guided with {@code scale} above 1 in the authors' doubled form ({@link Guided#doubled}),
     * the sampler's per-step noise drawn for [z; z]; otherwise the plain forward on z.
     */
    public static Tensor sample(DiffusionModel<?> model, Sampler sampler, Conditioning c, Tensor z, double scale, Generator gen) {
        long n = z.size(0);
        if (c.batchSize() != n) throw new IllegalArgumentException(c.batchSize() + " conditionings for " + n + " samples");
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad()) {
            Tensor out;
            DType weights = model.dtype();
            if (scale > 1 && !(c instanceof Conditioning.None)) {
                Guided guided = model.guided(c, scale);
                out = sampler.sample(atPrecision(guided.doubled(), weights), Tensor.cat(List.of(z, z), 0), gen).narrow(0, 0, n);
            } else {
                out = sampler.sample(atPrecision((x, t) -> model.forward(x, t, c), weights), z, gen);
            }
            return s.keep(out.contiguous());
        }
    }

    /** The network with its input cast to the weights' dtype and its output back to float32 (itself for float32 weights). */
    private static Denoiser atPrecision(Denoiser network, DType weights) {
        if (weights == DType.FLOAT32) return network;
        return (x, t) -> {
            try (TensorScope s = TensorScope.open()) {
                return s.keep(network.apply(x.to(weights), t).to(DType.FLOAT32));
            }
        };
    }
}
