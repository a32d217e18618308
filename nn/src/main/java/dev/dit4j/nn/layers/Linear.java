package dev.dit4j.nn.layers;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;

/** y = x W^T + b; parameters {@code weight} [out, in] and {@code bias} [out]. */
public final class Linear extends Module {
    private final Tensor weight;
    private final Tensor bias;

    public Linear(long in, long out, boolean bias, DType dtype, Device device, Generator gen) {
        this.weight = registerParameter("weight", Tensor.empty(new long[] {out, in}, dtype, device));
        this.bias = bias ? registerParameter("bias", Tensor.zeros(new long[] {out}, dtype, device)) : null;
        Init.pytorchDefault(weight, this.bias, gen);
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public Tensor forward(Tensor x) {
        return Functional.linear(x, weight, bias);
    }

    /** xavier_uniform weight, zero bias (the DiT / U-DiT convention). */
    public Linear xavier(Generator gen) {
        Init.xavierUniform(weight, gen);
        if (bias != null) Init.zeros(bias);
        return this;
    }

    /** Zero weight and bias (adaLN-Zero gates, final layers). */
    public Linear zero() {
        Init.zeros(weight);
        if (bias != null) Init.zeros(bias);
        return this;
    }
}
