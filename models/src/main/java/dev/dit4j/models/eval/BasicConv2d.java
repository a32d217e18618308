package dev.dit4j.models.eval;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;

/**
 * torchvision's BasicConv2d at inference: a bias-free kh x kw convolution ({@code conv.weight}),
 * BatchNorm with its running statistics ({@code bn.*}, eps 1e-3), ReLU. The norm is folded into
 * the convolution for each forward (weight x scale, bias = beta - mean x scale), so a block costs
 * one convolution and one in-place ReLU; the stored tensors stay as the file has them.
 */
final class BasicConv2d extends Module {
    private static final double EPS = 1e-3;
    private final Tensor weight, gamma, beta, mean, var;
    private final long[] stride, padding;

    /** The tensors of one child (conv or bn) under their own names. */
    private static final class Params extends Module {
        Params(VarBuilder vb) {
            super(vb);
        }

        Tensor add(String name, long... shape) {
            return registerParameter(name, shape, Init.zeros());
        }

        Tensor addBuffer(String name, long... shape) {
            return registerBuffer(name, shape, Init.zeros());
        }
    }

    BasicConv2d(VarBuilder vb, long in, long out, long kh, long kw, long stride, long padH, long padW) {
        super(vb);
        weight = registerModule("conv", Params::new).add("weight", out, in, kh, kw);
        Params bn = registerModule("bn", Params::new);
        gamma = bn.add("weight", out);
        beta = bn.add("bias", out);
        mean = bn.addBuffer("running_mean", out);
        var = bn.addBuffer("running_var", out);
        this.stride = new long[] {stride, stride};
        this.padding = new long[] {padH, padW};
    }

    /** A k x k convolution with the given stride and padding. */
    static BasicConv2d square(VarBuilder vb, long in, long out, long k, long stride, long padding) {
        return new BasicConv2d(vb, in, out, k, k, stride, padding, padding);
    }

    Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor scale = gamma.mul(var.add(EPS).rsqrt());
            Tensor shift = beta.sub(mean.mul(scale));
            Tensor folded = weight.mul(scale.view(-1, 1, 1, 1));
            Tensor y = Functional.conv2d(x, folded, shift, stride, padding, new long[] {1, 1}, 1);
            return s.keep(y.relu());
        }
    }
}
