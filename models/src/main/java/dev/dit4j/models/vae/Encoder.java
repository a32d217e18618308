package dev.dit4j.models.vae;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.GroupNorm;
import java.util.List;

/** Images [N, 3, H, W] -> the Gaussian's raw parameters [N, 2 z, H/f, W/f] (before quant_conv). */
final class Encoder extends Module {
    private final Conv2d convIn, convOut;
    private final List<Level> down;
    private final MidBlock mid;
    private final GroupNorm normOut;

    Encoder(VarBuilder vb, AutoencoderKL.Config cfg) {
        super(vb);
        int levels = cfg.channelMult().size();
        convIn = registerModule("conv_in", Conv2d.of(cfg.inChannels(), cfg.channels(), 3).samePadding());
        ModuleList<Level> list = registerModule("down", ModuleList::new);
        for (int i = 0; i < levels; i++) {
            int in = cfg.width(i - 1), out = cfg.width(i);
            Level.Resample resample = i == levels - 1 ? Level.Resample.NONE : Level.Resample.DOWN;
            boolean attention = cfg.attentionLevels().contains(i);
            list.add(p -> new Level(p, in, out, cfg.numResBlocks(), attention, resample, cfg.normGroups()));
        }
        down = list.items();
        int deepest = cfg.width(levels - 1);
        mid = registerModule("mid", p -> new MidBlock(p, deepest, cfg.normGroups()));
        normOut = registerModule("norm_out", AutoencoderKL.norm(cfg.normGroups(), deepest));
        convOut = registerModule("conv_out", Conv2d.of(deepest, 2L * cfg.zChannels(), 3).samePadding());
    }

    Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor h = convIn.forward(x);
            for (Level level : down) h = Chain.step(h, level::forward, x);
            h = Chain.step(h, mid::forward, x);
            h = Chain.step(h, normOut::forward, x).silu_();
            return s.keep(Chain.step(h, convOut::forward, x));
        }
    }
}
