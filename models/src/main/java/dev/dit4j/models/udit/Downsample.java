package dev.dit4j.models.udit;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;

/**
 * The authors' Downsample(n_feat): a 3x3 conv C -> C/2 without bias (key {@code body.0}), then
 * PixelUnshuffle(2): 2C channels at half the side.
 */
public final class Downsample extends Module {
    private final Conv2d conv;

    public Downsample(VarBuilder vb, int channels) {
        super(vb);
        if (channels % 2 != 0) throw new IllegalArgumentException("downsampling needs an even channel count, got " + channels);
        conv = registerModule("body.0", Conv2d.of(channels, channels / 2, 3).samePadding().withBias(false).xavier());
    }

    public Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(Functional.pixelUnshuffle(conv.forward(x), 2));
        }
    }
}
