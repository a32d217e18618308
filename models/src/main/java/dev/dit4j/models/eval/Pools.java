package dev.dit4j.models.eval;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/**
 * The 3 x 3 poolings of Inception, composed from slices, concatenation and avg_pool2d: max pooling
 * (stride 2 unpadded; stride 1 padded with -inf, as max_pool2d pads) and TensorFlow's average
 * pooling (stride 1, padding 1, the padded zeros not counted, as pytorch-fid's FID blocks do).
 */
final class Pools {
    private Pools() {}

    /** max_pool2d(x, 3, stride): the largest of the nine shifted, strided views. */
    static Tensor max3x3(Tensor x, long stride) {
        try (TensorScope s = TensorScope.open()) {
            long oh = (x.size(2) - 3) / stride + 1, ow = (x.size(3) - 3) / stride + 1;
            Tensor out = null;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    Tensor v = x.slice(2, i, i + (oh - 1) * stride + 1, stride).slice(3, j, j + (ow - 1) * stride + 1, stride);
                    out = out == null ? v : out.maximum(v);
                }
            }
            return s.keep(out.contiguous());
        }
    }

    /** max_pool2d(x, 3, stride=1, padding=1). */
    static Tensor max3x3Same(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(max3x3(pad1(x, Double.NEGATIVE_INFINITY), 1));
        }
    }

    /** avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False). */
    static Tensor avg3x3SameExcludingPad(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor sums = Functional.avgPool2d(pad1(x, 0), 3, 1).mul(9);
            Tensor ones = Tensor.ones(new long[] {1, 1, x.size(2), x.size(3)}, x.dtype(), x.device());
            Tensor counts = Functional.avgPool2d(pad1(ones, 0), 3, 1).mul(9);
            return s.keep(sums.div(counts));
        }
    }

    /** x [N, C, H, W] with a border of one {@code value} on each side. */
    static Tensor pad1(Tensor x, double value) {
        try (TensorScope s = TensorScope.open()) {
            long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
            Tensor col = Tensor.full(value, new long[] {n, c, h, 1}, x.dtype(), x.device());
            Tensor wide = Tensor.cat(List.of(col, x, col), 3);
            Tensor row = Tensor.full(value, new long[] {n, c, 1, w + 2}, x.dtype(), x.device());
            return s.keep(Tensor.cat(List.of(row, wide, row), 2));
        }
    }
}
