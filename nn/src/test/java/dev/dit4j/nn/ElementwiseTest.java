package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Elementwise ops against float64 references computed in Java. */
class ElementwiseTest extends TestSupport {
    private static final double[] X = {-2.5, -1, -0.3, 0.2, 0.7, 1.9};
    private static final double[] POS = {0.1, 0.5, 1, 2, 3.5, 10};

    private static void checkUnary(Function<Tensor, Tensor> op, DoubleUnaryOperator ref, double[] in) {
        double[] expected = java.util.Arrays.stream(in).map(ref).toArray();
        assertClose(expected, op.apply(f64(in, in.length)), 1e-12);
    }

    @Test
    void unaryOpsMatchJavaMath() {
        checkUnary(Tensor::neg, x -> -x, X);
        checkUnary(Tensor::exp, Math::exp, X);
        checkUnary(Tensor::log, Math::log, POS);
        checkUnary(Tensor::log1p, Math::log1p, POS);
        checkUnary(Tensor::expm1, Math::expm1, X);
        checkUnary(Tensor::sqrt, Math::sqrt, POS);
        checkUnary(Tensor::rsqrt, x -> 1 / Math.sqrt(x), POS);
        checkUnary(Tensor::tanh, Math::tanh, X);
        checkUnary(Tensor::sin, Math::sin, X);
        checkUnary(Tensor::cos, Math::cos, X);
        checkUnary(Tensor::abs, Math::abs, X);
        checkUnary(Tensor::sigmoid, x -> 1 / (1 + Math.exp(-x)), X);
        checkUnary(Tensor::relu, x -> Math.max(x, 0), X);
        checkUnary(Tensor::silu, x -> x / (1 + Math.exp(-x)), X);
        checkUnary(Tensor::square, x -> x * x, X);
        checkUnary(Tensor::reciprocal, x -> 1 / x, POS);
        checkUnary(Tensor::sign, Math::signum, X);
        checkUnary(Tensor::floor, Math::floor, X);
        checkUnary(Tensor::ceil, Math::ceil, X);
        checkUnary(t -> t.clamp(-1, 1), x -> Math.max(-1, Math.min(1, x)), X);
        checkUnary(t -> t.clampMin(0.2), x -> Math.max(0.2, x), X);
        checkUnary(t -> t.clampMax(0.2), x -> Math.min(0.2, x), X);
    }

    @Test
    void geluExactAndTanhMatchTheirFormulas() {
        // erf reference: Abramowitz-Stegun is too coarse, so compare exact GELU against 0.5 x (1 + erf(x / sqrt 2)) via libtorch's erf,
        // and erf itself against tabulated values.
        assertClose(new double[] {-0.8427007929497149, 0, 0.5204998778130465, 0.9953222650189527},
                f64(new double[] {-1, 0, 0.5, 2}, 4).erf(), 1e-15);
        Tensor x = f64(X, X.length);
        Tensor exact = x.mul(x.div(Math.sqrt(2)).erf().add(1)).mul(0.5);
        assertClose(exact, x.gelu(false), 1e-15);
        double c = Math.sqrt(2 / Math.PI);
        checkUnary(t -> t.gelu(true), v -> 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v))), X);
    }

    private static void checkBinary(java.util.function.BiFunction<Tensor, Tensor, Tensor> op, DoubleBinaryOperator ref) {
        double[] a = {1, -2, 3.5, 4, 0.5, 2};
        double[] b = {0.5, 4, -1, 2};
        // [3, 2] op [2] broadcasts b's first two entries over rows; [2, 1, 2] would too. Check a [2,3] x [3] case.
        Tensor ta = f64(a, 2, 3);
        Tensor tb = f64(new double[] {b[0], b[1], b[3]}, 3);
        double[] expected = new double[6];
        double[] bb = {b[0], b[1], b[3]};
        for (int i = 0; i < 6; i++) expected[i] = ref.applyAsDouble(a[i], bb[i % 3]);
        assertClose(expected, op.apply(ta, tb), 1e-12);
    }

    @Test
    void binaryOpsBroadcast() {
        checkBinary(Tensor::add, Double::sum);
        checkBinary(Tensor::sub, (x, y) -> x - y);
        checkBinary(Tensor::mul, (x, y) -> x * y);
        checkBinary(Tensor::div, (x, y) -> x / y);
        checkBinary(Tensor::maximum, Math::max);
        checkBinary(Tensor::minimum, Math::min);
        checkBinary(Tensor::atan2, Math::atan2);
        checkBinary((x, y) -> x.add(y, 2.5), (x, y) -> x + 2.5 * y);
        checkBinary((x, y) -> x.abs().pow(y), (x, y) -> Math.pow(Math.abs(x), y));
        assertClose(new double[] {0, 1, 0, 1, 0, 0}, f64(new double[] {1, 2, 3, 4, 5, 6}, 6).eq(f64(new double[] {0, 2, 0, 4, 0, 0}, 6)).to(DType.FLOAT64), 0);
    }

    @Test
    void scalarOpsAndReversedForms() {
        Tensor x = f64(new double[] {1, 2, 4}, 3);
        assertClose(new double[] {3, 4, 6}, x.add(2), 0);
        assertClose(new double[] {-1, 0, 2}, x.sub(2), 0);
        assertClose(new double[] {1, 0, -2}, x.rsub(2), 0);
        assertClose(new double[] {0.5, 1, 2}, x.div(2), 0);
        assertClose(new double[] {2, 1, 0.5}, x.rdiv(2), 0);
        assertClose(new double[] {1, 4, 16}, x.pow(2), 0);
        assertClose(new double[] {1, 0, 0}, x.remainder(2), 0);
        assertClose(new double[] {0, 1, 1}, x.gt(1).to(DType.FLOAT64), 0);
        assertClose(new double[] {1, 0, 0}, x.lt(2).to(DType.FLOAT64), 0);
    }

    @Test
    void whereAndMaskedFillSelectElements() {
        Tensor cond = Tensor.of(new boolean[] {true, false, true}, 3);
        Tensor a = f64(new double[] {1, 2, 3}, 3);
        Tensor b = f64(new double[] {-1, -2, -3}, 3);
        assertClose(new double[] {1, -2, 3}, Tensor.where(cond, a, b), 0);
        assertClose(new double[] {9, 2, 9}, a.maskedFill(cond, 9), 0);
        assertClose(new double[] {0, 1, 0}, cond.logicalNot().to(DType.FLOAT64), 0);
        assertClose(new double[] {1, 0, 1}, cond.logicalAnd(Tensor.of(new boolean[] {true, true, true}, 3)).to(DType.FLOAT64), 0);
        assertClose(new double[] {0, 0, 1}, f64(new double[] {Double.NaN, 1, 2}, 3).isnan().logicalNot().logicalAnd(a.gt(1.5)).logicalAnd(a.gt(2.5)).to(DType.FLOAT64), 0);
    }

    @Test
    void siluInPlaceEqualsLibtorchsSilu() {
        try (Generator g = Generator.create(3, Device.CPU)) {
            Tensor x = Tensor.randn(new long[] {2, 64, 9, 9}, DType.FLOAT32, Device.CPU, g).mul_(4);
            Tensor expected = x.silu();
            assertSame(x, x.silu_());
            assertEquals(0, x.sub(expected).abs().max().item(), "silu_ must be libtorch's silu, bit for bit");
        }
    }

    @Test
    void inPlaceOpsWriteIntoTheTensor() {
        Tensor x = f64(new double[] {1, 2, 3}, 3);
        Tensor y = f64(new double[] {10, 20, 30}, 3);
        x.add_(y).mul_(2).add_(1).div_(3);
        assertClose(new double[] {23.0 / 3, 15, 67.0 / 3}, x, 1e-12);
        x.copy_(f64(new double[] {0, 0, 0}, 3)).add_(y, 0.5).sub_(f64(new double[] {1, 1, 1}, 3));
        assertClose(new double[] {4, 9, 14}, x, 0);
        x.lerp_(y, 0.5);
        assertClose(new double[] {7, 14.5, 22}, x, 0);
        x.clamp_(8, 20).mul_(y);
        assertClose(new double[] {80, 290, 600}, x, 0);
    }
}
