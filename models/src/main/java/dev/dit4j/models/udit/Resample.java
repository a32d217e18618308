package dev.dit4j.models.udit;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Sequential;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.layers.Conv2d;

/**
 * U-DiT's stage changes (key {@code body.0}, a 3x3 conv without bias): down = conv C -> C/2 then
 * PixelUnshuffle(2) (2C channels at half the side); up = conv C -> 2C then PixelShuffle(2)
 * (C/2 channels at twice the side). PyTorch's channel orderings.
 */
public final class Resample extends Module {
    private final Conv2d conv;
    private final boolean down;

    private Resample(int channels, boolean down, DType dtype, Device device, Generator gen) {
        this.down = down;
        int out = down ? channels / 2 : channels * 2;
        conv = registerModule("body", new Sequential()).add(0, new Conv2d(channels, out, 3, 1, 1, 1, false, dtype, device, gen));
        DownsampledAttention.xavier(conv, gen);
    }

    /** The authors' Downsample(n_feat). */
    public static Resample down(int channels, DType dtype, Device device, Generator gen) {
        if (channels % 2 != 0) throw new IllegalArgumentException("downsampling needs an even channel count, got " + channels);
        return new Resample(channels, true, dtype, device, gen);
    }

    /** The authors' Upsample(n_feat). */
    public static Resample up(int channels, DType dtype, Device device, Generator gen) {
        return new Resample(channels, false, dtype, device, gen);
    }

    public Tensor forward(Tensor x) {
        try (Tensor y = conv.forward(x)) {
            return down ? Functional.pixelUnshuffle(y, 2) : Functional.pixelShuffle(y, 2);
        }
    }
}
