package dev.dit4j.models.vae;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.GroupNorm;
import java.util.List;

/**
 * Latents [N, z, h, w] (after post_quant_conv) -> images [N, 3, f h, f w]. The levels are
 * numbered as in the encoder ({@code up.0} is the full resolution) and run from the deepest up;
 * each has one residual block more than the encoder's.
 */
final class Decoder extends Module {
    private final Conv2d convIn, convOut;
    private final MidBlock mid;
    private final List<Level> up;
    private final GroupNorm normOut;

    Decoder(VarBuilder vb, AutoencoderKL.Config cfg) {
        super(vb);
        int levels = cfg.channelMult().size();
        int deepest = cfg.width(levels - 1);
        convIn = registerModule("conv_in", Conv2d.of(cfg.zChannels(), deepest, 3).samePadding());
        mid = registerModule("mid", p -> new MidBlock(p, deepest, cfg.normGroups()));
        ModuleList<Level> list = registerModule("up", ModuleList::new);
        for (int i = 0; i < levels; i++) {
            int in = cfg.width(Math.min(i + 1, levels - 1)), out = cfg.width(i);
            Level.Resample resample = i == 0 ? Level.Resample.NONE : Level.Resample.UP;
            boolean attention = cfg.attentionLevels().contains(i);
            list.add(p -> new Level(p, in, out, cfg.numResBlocks() + 1, attention, resample, cfg.normGroups()));
        }
        up = list.items();
        normOut = registerModule("norm_out", AutoencoderKL.norm(cfg.normGroups(), cfg.width(0)));
        convOut = registerModule("conv_out", Conv2d.of(cfg.width(0), cfg.inChannels(), 3).samePadding());
    }

    Tensor forward(Tensor z) {
        try (TensorScope s = TensorScope.open()) {
            Tensor h = Chain.step(convIn.forward(z), mid::forward, z);
            for (int i = up.size() - 1; i >= 0; i--) h = Chain.step(h, up.get(i)::forward, z);
            h = Chain.step(h, normOut::forward, z).silu_();
            return s.keep(Chain.step(h, convOut::forward, z));
        }
    }
}
