package dev.dit4j.nn.io;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Shapes;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Builds the tensor that torch.save described as (storage, offset, sizes, strides). dit4j has no
 * as_strided, so a row-major view becomes a zero-copy narrow+view of the storage (sharing memory
 * with other views of it, as in PyTorch) and any other view is gathered into a new contiguous
 * tensor.
 */
final class TorchViews {
    private TorchViews() {}

    /** Whether elements laid out with these strides are the row-major order of the shape. */
    static boolean isRowMajor(long[] shape, long[] stride) {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 0) return true;
            if (shape[i] != 1 && stride[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }

    /**
     * One past the largest storage index the view touches (0 for an empty view); throws
     * IllegalArgumentException for negative values or overflow.
     */
    static long extent(long offset, long[] shape, long[] stride) {
        if (shape.length != stride.length) {
            throw new IllegalArgumentException("size " + Arrays.toString(shape) + " and stride " + Arrays.toString(stride)
                    + " differ in length");
        }
        if (offset < 0) throw new IllegalArgumentException("negative storage offset " + offset);
        for (long s : stride) if (s < 0) throw new IllegalArgumentException("negative stride in " + Arrays.toString(stride));
        try {
            if (Shapes.numel(shape) == 0) return 0;
            long last = offset;
            for (int i = 0; i < shape.length; i++) last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
            return Math.addExact(last, 1);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("size " + Arrays.toString(shape) + " and stride " + Arrays.toString(stride)
                    + " at storage offset " + offset + " overflow 64-bit element counts");
        }
    }

    /** The view as a new tensor handle (released from any scope); storage is a 1-d CPU tensor. */
    static Tensor view(Tensor storage, long offset, long[] shape, long[] stride) {
        long numel = Shapes.numel(shape);
        if (numel == 0) return TensorScope.release(Tensor.empty(shape, storage.dtype(), Device.CPU));
        if (isRowMajor(shape, stride)) {
            try (Tensor flat = storage.narrow(0, offset, numel)) {
                return TensorScope.release(flat.view(shape));
            }
        }
        Tensor out = TensorScope.release(Tensor.empty(shape, storage.dtype(), Device.CPU));
        gather(storage.asSegment(), out.asSegment(), offset, shape, stride, storage.dtype().byteSize());
        return out;
    }

    /** Copies the view's elements in row-major order, a run at a time when the last stride is 1. */
    private static void gather(MemorySegment src, MemorySegment dst, long offset, long[] shape, long[] stride, int size) {
        int last = shape.length - 1; // at least one dimension: a 0-d view is always row-major
        long inner = shape[last];
        long[] index = new long[last]; // position in the outer dimensions
        long outer = Shapes.numel(shape) / inner;
        long to = 0;
        for (long o = 0; o < outer; o++) {
            long base = offset;
            for (int i = 0; i < last; i++) base += index[i] * stride[i];
            if (stride[last] == 1) {
                MemorySegment.copy(src, base * size, dst, to, inner * size);
                to += inner * size;
            } else {
                for (long j = 0; j < inner; j++, to += size) {
                    MemorySegment.copy(src, (base + j * stride[last]) * size, dst, to, size);
                }
            }
            for (int i = last - 1; i >= 0 && ++index[i] == shape[i]; i--) index[i] = 0;
        }
    }
}
