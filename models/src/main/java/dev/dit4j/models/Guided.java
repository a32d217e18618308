package dev.dit4j.models;

import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/**
 * Classifier-free guidance of a model with weight {@code scale} (1 = none): each step runs the
 * conditioning {@code c} and its null form as one batch and combines the two outputs in the
 * model's authors' form ({@link DiffusionModel#guide}). As a {@link Denoiser} it maps N samples
 * to N guided outputs; {@link #doubled()} is the authors' {@code forward_with_cfg} on a batch of
 * 2N whose halves share their noise, which their scripts sample so that the sampler's per-step
 * noise is drawn for 2N.
 */
public final class Guided implements Denoiser {
    private final DiffusionModel<?> model;
    private final Conditioning c;
    private final double scale;

    Guided(DiffusionModel<?> model, Conditioning c, double scale) {
        this.model = model;
        this.c = c;
        this.scale = scale;
    }

    public double scale() {
        return scale;
    }

    /** x [N, C, H, W], t [N] (or [1]) -> guided output [N, outC, H, W]. */
    @Override
    public Tensor apply(Tensor x, Tensor t) {
        return apply(x, t, null);
    }

    /** As {@link #apply(Tensor, Tensor)} with only the tokens {@code keep} [2N, K] of the doubled batch carried (MicroDiT's masking; null keeps all). */
    public Tensor apply(Tensor x, Tensor t, Tensor keep) {
        long n = c.batchSize();
        if (x.size(0) != n) throw new IllegalArgumentException("guided denoiser for " + n + " samples got batch " + x.size(0));
        try (TensorScope s = TensorScope.open()) {
            Tensor out = both(x, t.numel() == 1 ? t : Tensor.cat(List.of(t, t), 0), keep);
            return s.keep(combined(out, n, false));
        }
    }

    /**
     * The authors' form on a doubled batch: x [2N, ...] whose first half is used for both passes,
     * t [2N] as given; the guided channels of both halves are the guided output, the other
     * channels each half's own (DiT's forward_with_cfg).
     */
    public Denoiser doubled() {
        return (x, t) -> {
            long n = c.batchSize();
            if (x.size(0) != 2 * n) throw new IllegalArgumentException("doubled guided denoiser for " + n + " samples (batch " + 2 * n + ") got batch " + x.size(0));
            try (TensorScope s = TensorScope.open()) {
                Tensor out = both(x.narrow(0, 0, n), t, null);
                return s.keep(combined(out, n, true));
            }
        };
    }

    /** The network on [half; half] with [c; null] ([conditional; null] is joined at each step, so this object holds no tensors). */
    private Tensor both(Tensor half, Tensor t, Tensor keep) {
        return model.forward(Tensor.cat(List.of(half, half), 0), t, c.concat(c.unconditional()), keep);
    }

    private Tensor combined(Tensor out, long n, boolean bothHalves) {
        int k = model.guidedChannels();
        Tensor cond = out.narrow(0, 0, n), uncond = out.narrow(0, n, n);
        Tensor guided = model.guide(cond.narrow(1, 0, k), uncond.narrow(1, 0, k), scale);
        long rest = out.size(1) - k;
        if (!bothHalves) return rest == 0 ? guided : Tensor.cat(List.of(guided, cond.narrow(1, k, rest)), 1);
        Tensor twice = Tensor.cat(List.of(guided, guided), 0);
        return rest == 0 ? twice : Tensor.cat(List.of(twice, out.narrow(1, k, rest)), 1);
    }
}
