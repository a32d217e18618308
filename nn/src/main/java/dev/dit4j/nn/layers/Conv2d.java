package dev.dit4j.nn.layers;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;

/** 2-d convolution; {@code weight} [out, in/groups, k, k], optional {@code bias} [out]. */
public final class Conv2d extends Module {
    private final Tensor weight;
    private final Tensor bias;
    private final long stride;
    private final long padding;
    private final long groups;

    public Conv2d(long in, long out, long kernel, long stride, long padding, long groups, boolean bias, DType dtype,
                  Device device, Generator gen) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("channels in=" + in + " and out=" + out + " must divide by groups=" + groups);
        }
        this.weight = registerParameter("weight", Tensor.empty(new long[] {out, in / groups, kernel, kernel}, dtype, device));
        this.bias = bias ? registerParameter("bias", Tensor.zeros(new long[] {out}, dtype, device)) : null;
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
        Init.pytorchDefault(weight, this.bias, gen);
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public Tensor forward(Tensor x) {
        return Functional.conv2d(x, weight, bias, stride, padding, groups);
    }

    /** xavier_uniform on the flattened [out, in*k*k] view (DiT's patch embedding), zero bias. */
    public Conv2d xavierFlat(Generator gen) {
        try (Tensor flat = weight.view(weight.size(0), -1)) {
            Init.xavierUniform(flat, gen);
        }
        if (bias != null) Init.zeros(bias);
        return this;
    }
}
