package dev.dit4j.models.vae;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.GroupNorm;

/**
 * The autoencoder's residual block: GroupNorm, SiLU, 3x3 conv, twice, plus the input (through a
 * 1x1 {@code nin_shortcut} when the width changes). No timestep input, no dropout at inference.
 */
final class ResnetBlock extends Module {
    private final GroupNorm norm1, norm2;
    private final Conv2d conv1, conv2;
    private final Conv2d shortcut;

    ResnetBlock(VarBuilder vb, int in, int out, int groups) {
        super(vb);
        norm1 = registerModule("norm1", AutoencoderKL.norm(groups, in));
        conv1 = registerModule("conv1", Conv2d.of(in, out, 3).samePadding());
        norm2 = registerModule("norm2", AutoencoderKL.norm(groups, out));
        conv2 = registerModule("conv2", Conv2d.of(out, out, 3).samePadding());
        shortcut = in == out ? null : registerModule("nin_shortcut", Conv2d.of(in, out, 1));
    }

    Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor h = norm1.forward(x).silu_(); // in place: the norm's output is ours alone
            h = Chain.step(h, conv1::forward, x);
            h = Chain.step(h, norm2::forward, x).silu_();
            h = Chain.step(h, conv2::forward, x);
            return s.keep(h.add_(shortcut == null ? x : shortcut.forward(x)));
        }
    }
}
