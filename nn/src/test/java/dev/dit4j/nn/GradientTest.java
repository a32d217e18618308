package dev.dit4j.nn;

import static dev.dit4j.nn.GradCheck.check;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Every differentiable op's autograd against central finite differences in float64. */
class GradientTest extends TestSupport {
    private static Tensor away(Tensor t, double from) {
        // keeps values away from a kink (abs, relu, clamp bounds) so finite differences are valid
        return Tensor.where(t.sub(from).abs().lt(0.05), t.add(0.1), t);
    }

    @Test
    void elementwise() {
        Tensor a = seeded(1, 3, 4);
        Tensor b = seeded(2, 4);
        Tensor pos = seeded(3, 3, 4).abs().add(0.2);
        check("add", x -> x.get(0).add(x.get(1)), a, b);
        check("add scaled", x -> x.get(0).add(x.get(1), -1.5), a, b);
        check("sub", x -> x.get(0).sub(x.get(1)), a, b);
        check("mul", x -> x.get(0).mul(x.get(1)), a, b);
        check("div", x -> x.get(0).div(x.get(1)), a, pos);
        check("pow", x -> x.get(0).pow(x.get(1)), pos, a);
        check("pow scalar", x -> x.get(0).pow(3), a);
        check("maximum", x -> x.get(0).maximum(x.get(1)), a, a.mul(0.5).add(0.1));
        check("minimum", x -> x.get(0).minimum(x.get(1)), a, a.mul(0.5).add(0.1));
        check("scalar forms", x -> x.get(0).mul(2).add(1).rsub(3).div(4).rdiv(5), pos);
        check("exp", x -> x.get(0).exp(), a);
        check("log", x -> x.get(0).log(), pos);
        check("sqrt", x -> x.get(0).sqrt(), pos);
        check("rsqrt", x -> x.get(0).rsqrt(), pos);
        check("tanh", x -> x.get(0).tanh(), a);
        check("sin", x -> x.get(0).sin(), a);
        check("cos", x -> x.get(0).cos(), a);
        check("abs", x -> x.get(0).abs(), away(a, 0));
        check("sigmoid", x -> x.get(0).sigmoid(), a);
        check("relu", x -> x.get(0).relu(), away(a, 0));
        check("silu", x -> x.get(0).silu(), a);
        check("gelu exact", x -> x.get(0).gelu(false), a);
        check("gelu tanh", x -> x.get(0).gelu(true), a);
        check("square", x -> x.get(0).square(), a);
        check("erf", x -> x.get(0).erf(), a);
        check("clamp", x -> x.get(0).clamp(-0.5, 0.5), away(away(a, -0.5), 0.5));
        Tensor cond = a.gt(0);
        check("where", x -> Tensor.where(cond, x.get(0), x.get(1)), a, seeded(4, 3, 4));
        check("maskedFill", x -> x.get(0).maskedFill(cond, 2), a);
    }

    @Test
    void reductions() {
        Tensor a = seeded(5, 3, 4);
        check("sum", x -> x.get(0).sum(), a);
        check("sum dim", x -> x.get(0).sum(1, true), a);
        check("mean", x -> x.get(0).mean(new long[] {0, 1}, false), a);
        check("var", x -> x.get(0).var(new long[] {1}, 1, false), a);
        check("max dim", x -> x.get(0).max(1, false).values(), a);
        check("max all", x -> x.get(0).max(), a);
        check("norm", x -> x.get(0).norm(2, new long[] {1}, false), a);
        check("cumsum", x -> x.get(0).cumsum(1), a);
        check("cumprod", x -> x.get(0).cumprod(0), a);
    }

    @Test
    void shapeAndIndexing() {
        Tensor a = seeded(6, 2, 3, 4);
        check("reshape", x -> x.get(0).reshape(6, 4).mul(x.get(0).reshape(6, 4)), a);
        check("view", x -> x.get(0).view(4, 6), a);
        check("permute", x -> x.get(0).permute(2, 0, 1).contiguous(), a);
        check("transpose", x -> x.get(0).transpose(0, 2), a);
        check("flatten", x -> x.get(0).flatten(1, 2), a);
        check("unsqueeze squeeze", x -> x.get(0).unsqueeze(1).mul(2).squeeze(1).squeeze(), a);
        check("expand", x -> x.get(0).narrow(0, 0, 1).expand(3, 3, 4), a);
        check("repeat", x -> x.get(0).repeat(2, 1, 1), a);
        check("flip", x -> x.get(0).flip(0, 2), a);
        check("slice select", x -> x.get(0).slice(2, 0, 4, 2).select(1, 2), a);
        check("cat", x -> Tensor.cat(List.of(x.get(0), x.get(1)), 1), a, seeded(7, 2, 1, 4));
        check("stack", x -> Tensor.stack(List.of(x.get(0), x.get(0).mul(2)), 0), a);
        check("chunk", x -> x.get(0).chunk(2, 2).get(1).mul(x.get(0).chunk(2, 2).get(0)), a);
        check("split", x -> x.get(0).split(3, 2).get(1), a);
        Tensor idx = Tensor.of(new long[] {2, 0, 2}, 3);
        check("indexSelect", x -> x.get(0).indexSelect(1, idx), a);
        Tensor gidx = Tensor.of(new long[] {0, 2, 1, 1, 0, 0}, 2, 3, 1);
        check("gather", x -> x.get(0).gather(1, gidx.expand(2, 3, 4).contiguous()), a);
        Tensor sidx = Tensor.of(new long[] {1, 0}, 1, 2);
        check("scatter", x -> x.get(0).scatter(0, sidx, x.get(1)), seeded(8, 2, 2), seeded(9, 1, 2));
        check("scatterAdd", x -> x.get(0).scatterAdd(0, sidx, x.get(1)), seeded(8, 2, 2), seeded(9, 1, 2));
        check("tril", x -> x.get(0).tril(0), seeded(10, 3, 3));
    }

    @Test
    void linearAlgebra() {
        check("matmul", x -> x.get(0).matmul(x.get(1)), seeded(11, 2, 3, 4), seeded(12, 4, 5));
        check("mm", x -> x.get(0).mm(x.get(1)), seeded(11, 3, 4), seeded(12, 4, 2));
        check("bmm", x -> x.get(0).bmm(x.get(1)), seeded(11, 2, 3, 4), seeded(12, 2, 4, 2));
        check("linear", x -> Functional.linear(x.get(0), x.get(1), x.get(2)), seeded(13, 5, 4), seeded(14, 3, 4), seeded(15, 3));
        check("linear no bias", x -> Functional.linear(x.get(0), x.get(1), null), seeded(13, 5, 4), seeded(14, 3, 4));
        check("addmm", x -> Functional.addmm(x.get(0), x.get(1), x.get(2), 0.5, 2), seeded(16, 3, 2), seeded(17, 3, 4), seeded(18, 4, 2));
    }

    @Test
    void normalisationAndActivations() {
        Tensor x = seeded(19, 3, 6);
        check("softmax", t -> Functional.softmax(t.get(0), 1), x);
        check("logSoftmax", t -> Functional.logSoftmax(t.get(0), 0), x);
        check("layerNorm", t -> Functional.layerNorm(t.get(0), new long[] {6}, null, null, 1e-6), x);
        check("layerNorm affine", t -> Functional.layerNorm(t.get(0), new long[] {6}, t.get(1), t.get(2), 1e-5), x,
                seeded(20, 6), seeded(21, 6));
        check("groupNorm", t -> Functional.groupNorm(t.get(0), 2, t.get(1), t.get(2), 1e-5), seeded(22, 2, 4, 3, 3),
                seeded(23, 4), seeded(24, 4));
        check("embedding", t -> Functional.embedding(t.get(0), Tensor.of(new long[] {1, 0, 1}, 3)), seeded(25, 3, 4));
        check("mse", t -> Functional.mseLoss(t.get(0), t.get(1), Reduction.MEAN), x, seeded(26, 3, 6));
        check("crossEntropy", t -> Functional.crossEntropy(t.get(0), Tensor.of(new long[] {5, 0, 2}, 3), Reduction.MEAN, 0.1), x);
    }

    @Test
    void attentionBackends() {
        Tensor q = seeded(27, 1, 2, 4, 3);
        Tensor k = seeded(28, 1, 2, 5, 3);
        Tensor v = seeded(29, 1, 2, 5, 3);
        for (SdpaBackend b : new SdpaBackend[] {SdpaBackend.MATH, SdpaBackend.FLASH}) {
            check("sdpa " + b, t -> Functional.scaledDotProductAttention(t.get(0), t.get(1), t.get(2), null, 0, false, 0, b).output(),
                    q, k, v);
        }
        check("sdpa causal", t -> Functional.scaledDotProductAttention(t.get(0), t.get(0), t.get(0), null, 0, true, 0.7,
                SdpaBackend.MATH).output(), q);
    }

    @Test
    void convolutionsAndResampling() {
        check("conv2d", t -> Functional.conv2d(t.get(0), t.get(1), t.get(2), 2, 1, 1), seeded(30, 1, 2, 5, 5), seeded(31, 3, 2, 3, 3), seeded(32, 3));
        check("conv2d depthwise", t -> Functional.conv2d(t.get(0), t.get(1), null, 1, 1, 2), seeded(30, 1, 2, 4, 4), seeded(33, 2, 1, 3, 3));
        check("convTranspose2d", t -> Functional.convTranspose2d(t.get(0), t.get(1), t.get(2), new long[] {2, 2}, new long[] {1, 1},
                new long[] {1, 1}, new long[] {1, 1}, 1), seeded(34, 1, 2, 3, 3), seeded(35, 2, 3, 3, 3), seeded(36, 3));
        check("pixelShuffle", t -> Functional.pixelShuffle(t.get(0), 2), seeded(37, 1, 4, 2, 2));
        check("pixelUnshuffle", t -> Functional.pixelUnshuffle(t.get(0), 2), seeded(37, 1, 1, 4, 4));
        check("nearest", t -> Functional.interpolate(t.get(0), 4, 6, Functional.Interpolation.NEAREST, false), seeded(38, 1, 1, 2, 3));
        check("bilinear", t -> Functional.interpolate(t.get(0), 5, 4, Functional.Interpolation.BILINEAR, false), seeded(38, 1, 1, 2, 3));
        check("avgPool2d", t -> Functional.avgPool2d(t.get(0), 2, 2), seeded(39, 1, 2, 4, 4));
    }

    @Test
    void dropoutGradientIsTheKeptMaskScaled() {
        Tensor x = seeded(40, 1000).requiresGrad(true);
        Torch.manualSeed(3);
        Tensor y = Functional.dropout(x, 0.5, true);
        y.sum().backward();
        double[] g = x.grad().toDoubleArray();
        double[] out = y.toDoubleArray();
        for (int i = 0; i < g.length; i++) assertEquals(out[i] == 0 ? 0 : 2, g[i], 1e-12);
    }

    @Test
    void backwardWithUpstreamGradientAndAutogradGrad() {
        Tensor x = seeded(41, 3).requiresGrad(true);
        Tensor y = x.square();
        y.backward(f64(new double[] {1, 10, 100}, 3));
        double[] xv = x.toDoubleArray();
        assertClose(new double[] {2 * xv[0], 20 * xv[1], 200 * xv[2]}, x.grad(), 1e-12);
        x.zeroGrad();
        assertNull(x.grad());
        Tensor z = x.mul(x).sum();
        List<Tensor> g = Autograd.grad(List.of(z), List.of(x, seeded(42, 3).requiresGrad(true)), null, false, false);
        assertClose(new double[] {2 * xv[0], 2 * xv[1], 2 * xv[2]}, g.get(0), 1e-12);
        assertNull(g.get(1), "an input the output does not depend on has no gradient");
    }
}
