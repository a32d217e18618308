package dev.dit4j.models;

import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/** Classifier-free guidance: the generic sampling form and the authors' DiT form. */
final class Guidance {
    private Guidance() {}

    /** See {@link DiffusionModel#guided}. */
    static Denoiser denoiser(DiffusionModel<?> model, Conditioning c, double scale) {
        long n = c.batchSize();
        return (x, t) -> {
            if (x.size(0) != n) throw new IllegalArgumentException("guided denoiser for " + n + " samples got a batch of " + x.size(0));
            try (TensorScope step = TensorScope.open()) {
                // [conditional; null] is joined at each step, so that the denoiser holds no tensors of its own
                Conditioning both = c.concat(c.unconditional());
                Tensor out = model.forward(Tensor.cat(List.of(x, x), 0), Tensor.cat(List.of(t, t), 0), both);
                long channels = model.learnsSigma() ? out.size(1) / 2 : out.size(1);
                Tensor cond = out.narrow(0, 0, n);
                Tensor eps = cond.narrow(1, 0, channels);
                Tensor uncond = out.narrow(0, n, n).narrow(1, 0, channels);
                Tensor guided = uncond.add(eps.sub(uncond).mul(scale));
                Tensor rest = cond.narrow(1, channels, cond.size(1) - channels);
                return step.keep(Tensor.cat(List.of(guided, rest), 1));
            }
        };
    }

    /**
     * DiT's forward_with_cfg (U-DiT's sampling uses it too): the first half of x runs twice, with
     * the labels of y ([conditional; null]); eps_u + scale (eps_c - eps_u) on the first
     * {@code guidedChannels} output channels is written to both halves, the other channels keep
     * each half's own output.
     */
    static Tensor ditForm(DiffusionModel<?> model, Conditioning.Labels y, Tensor x, Tensor t, double scale, int guidedChannels) {
        long n = x.size(0);
        if (n % 2 != 0) throw new IllegalArgumentException("guided batches hold a conditional and an unconditional half; got batch " + n);
        try (TensorScope s = TensorScope.open()) {
            Tensor half = x.narrow(0, 0, n / 2);
            Tensor out = model.forward(Tensor.cat(List.of(half, half), 0), t, y);
            if (guidedChannels < 0 || guidedChannels > out.size(1))
                throw new IllegalArgumentException("guided channels must be in [0, " + out.size(1) + "], got " + guidedChannels);
            Tensor eps = out.narrow(1, 0, guidedChannels);
            Tensor rest = out.narrow(1, guidedChannels, out.size(1) - guidedChannels);
            Tensor cond = eps.narrow(0, 0, n / 2);
            Tensor uncond = eps.narrow(0, n / 2, n / 2);
            Tensor guided = uncond.add(cond.sub(uncond).mul(scale));
            return s.keep(Tensor.cat(List.of(Tensor.cat(List.of(guided, guided), 0), rest), 1));
        }
    }
}
