package dev.dit4j.nn.layers;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;

/** A lookup table {@code weight} [count, dim], initialised N(0, 1) like PyTorch's. */
public final class Embedding extends Module {
    private final Tensor weight;

    public Embedding(long count, long dim, DType dtype, Device device, Generator gen) {
        this.weight = registerParameter("weight", Tensor.randn(new long[] {count, dim}, dtype, device, gen));
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor forward(Tensor indices) {
        return Functional.embedding(weight, indices);
    }
}
