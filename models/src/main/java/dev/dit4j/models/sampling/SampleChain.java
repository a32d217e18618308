package dev.dit4j.models.sampling;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;
import java.util.List;

/**
 * One batch of class-conditional samples drawn as the authors' scripts draw it, so that a seed
 * gives their picture. From one generator, in this order: the initial noise z [N, C, H, W]
 * ({@code randn}), then, when no labels are given, the labels ({@code randint} over the classes, as
 * DiT's sample_ddp.py and U-ViT's sample_label). With guidance (scale above 1) the batch is
 * doubled as DiT's sample.py doubles it, {@code [z; z]} with labels {@code [y; null]}, the
 * sampler's per-step noise is drawn for the doubled batch, the network runs in its authors'
 * guided form (DiT's and U-DiT's forward_with_cfg, U-ViT's eps_c + s (eps_c - eps_u) with
 * s = scale - 1) and the first half is kept; without guidance the plain forward runs on z.
 *
 * <p>The scale is DiT's: eps_u + scale (eps_c - eps_u), 1 meaning no guidance; U-ViT's
 * configs' scale s is scale - 1 here (their 0.4 is 1.4).
 */
public final class SampleChain {
    private SampleChain() {}

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
        int classes = model.config().numClasses();
        if (shape.length != 4) throw new IllegalArgumentException("sample shape must be [N, C, H, W], got " + Arrays.toString(shape));
        long n = shape[0];
        if (labels != null && labels.length != n) throw new IllegalArgumentException(labels.length + " labels for " + n + " samples");
        if (labels != null && classes <= 0) throw new IllegalArgumentException(model.config().name() + " takes no class labels");
        for (long y : labels == null ? new long[0] : labels) {
            if (y < 0 || y >= classes) throw new IllegalArgumentException("label " + y + " is not a class of " + model.config().name() + " (0 to " + (classes - 1) + ")");
        }
        boolean guided = scale > 1 && classes > 0;
        if (guided && model instanceof UViT u && !u.config().nullLabel())
            throw new IllegalArgumentException(u.config().name() + " has no null label, so it cannot be guided: use scale 1");
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad()) {
            Tensor z = Tensor.randn(shape, DType.FLOAT32, gen.device(), gen);
            Tensor y = classes <= 0 ? null
                    : labels != null ? Tensor.of(labels, n).to(gen.device()) : Tensor.randint(0, classes, new long[] {n}, gen.device(), gen);
            Tensor out;
            if (guided) {
                Tensor both = Tensor.cat(List.of(y, Tensor.full(classes, new long[] {n}, DType.INT64, y.device())), 0);
                out = sampler.sample(authorsGuided(model, both, scale), Tensor.cat(List.of(z, z), 0), gen).narrow(0, 0, n);
            } else {
                Conditioning c = y == null ? Conditioning.none(n) : Conditioning.labels(y, classes);
                out = sampler.sample((x, t) -> model.forward(x, t, c), z, gen);
            }
            return new Batch(s.keep(out.contiguous()), y == null ? null : s.keep(y));
        }
    }

    /** The guided network on a doubled batch (labels [y; null]) in the form its authors sample with. */
    private static Denoiser authorsGuided(DiffusionModel<?> model, Tensor labels, double scale) {
        return switch (model) {
            case DiT d -> (x, t) -> d.forwardWithCfg(x, t, labels, scale);
            case UDiT u -> (x, t) -> u.forwardWithCfg(x, t, labels, scale);
            case UViT u -> (x, t) -> u.forwardWithCfg(x, t, labels, scale - 1);
            default -> throw new IllegalArgumentException("no guided form for " + model.describe());
        };
    }
}
