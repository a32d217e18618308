package dev.dit4j.nn.layers;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;

/** Layer norm over the last dim, optionally with {@code weight} (and {@code bias}). */
public final class LayerNorm extends Module {
    private final long[] shape;
    private final double eps;
    private final Tensor weight;
    private final Tensor bias;

    public LayerNorm(long dim, double eps, boolean weight, boolean bias, DType dtype, Device device) {
        this.shape = new long[] {dim};
        this.eps = eps;
        this.weight = weight ? registerParameter("weight", Tensor.ones(shape, dtype, device)) : null;
        this.bias = bias ? registerParameter("bias", Tensor.zeros(shape, dtype, device)) : null;
    }

    /** No affine parameters (DiT's norms). */
    public static LayerNorm plain(long dim, double eps, DType dtype, Device device) {
        return new LayerNorm(dim, eps, false, false, dtype, device);
    }

    public Tensor forward(Tensor x) {
        return Functional.layerNorm(x, shape, weight, bias, eps);
    }
}
