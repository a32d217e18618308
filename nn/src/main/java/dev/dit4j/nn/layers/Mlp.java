package dev.dit4j.nn.layers;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;

/** fc1 -> GELU (exact or tanh) -> fc2, as timm's Mlp (keys {@code fc1.*}, {@code fc2.*}). */
public final class Mlp extends Module {
    private final Linear fc1;
    private final Linear fc2;
    private final boolean tanhGelu;

    public Mlp(long dim, long hidden, boolean tanhGelu, DType dtype, Device device, Generator gen) {
        this.fc1 = registerModule("fc1", new Linear(dim, hidden, true, dtype, device, gen));
        this.fc2 = registerModule("fc2", new Linear(hidden, dim, true, dtype, device, gen));
        this.tanhGelu = tanhGelu;
    }

    public Linear fc1() {
        return fc1;
    }

    public Linear fc2() {
        return fc2;
    }

    public Tensor forward(Tensor x) {
        return fc2.forward(fc1.forward(x).gelu(tanhGelu));
    }
}
