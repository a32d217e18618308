package dev.dit4j.models.udit;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;

/**
 * The authors' Upsample(n_feat): a 3x3 conv C -> 2C without bias (key {@code body.0}), then
 * PixelShuffle(2): C/2 channels at twice the side.
 */
public final class Upsample extends Module {
    private final Conv2d conv;

    public Upsample(VarBuilder vb, int channels) {
        super(vb);
        conv = registerModule("body.0", Conv2d.of(channels, channels * 2, 3).samePadding().withBias(false).xavier());
    }

    public Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(Functional.pixelShuffle(conv.forward(x), 2));
        }
    }
}
