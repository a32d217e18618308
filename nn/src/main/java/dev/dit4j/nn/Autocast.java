package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;

/**
 * Automatic mixed precision for the calling thread, libtorch's autocast (torch.autocast): inside
 * a region, matmuls, linear layers, convolutions and attention on the region's device run in the
 * region's low-precision dtype while precision-sensitive ops (softmax, norms, losses) stay in
 * float32; parameters stay float32 (master weights) and gradients flow back in their dtype.
 *
 * <pre>{@code
 * try (Autocast.Region r = Autocast.enable(Device.cuda(0), DType.BFLOAT16)) {
 *     loss = model.forward(x, t, y) ...;
 * }
 * loss.backward();   // outside the region, as PyTorch recommends
 * }</pre>
 * Regions nest and are per thread; closing restores the state found on entry.
 */
public final class Autocast {
    private Autocast() {}

    /** Turns autocast on for {@code device}'s type with {@code dtype} (bfloat16 or float16) until closed. */
    public static Region enable(Device device, DType dtype) {
        if (dtype != DType.BFLOAT16 && dtype != DType.FLOAT16)
            throw new IllegalArgumentException("autocast runs in bfloat16 or float16, not " + dtype);
        return new Region(device.type(), dtype, true);
    }

    /** Turns autocast off for {@code device}'s type until closed (e.g. for a float32 island inside a region). */
    public static Region disable(Device device) {
        return new Region(device.type(), DType.BFLOAT16, false);
    }

    public static boolean isEnabled(Device device) {
        return LibTorch.autocastIsEnabled(device.type().code) == 1;
    }

    /** The dtype autocast casts to on {@code device}'s type (when enabled). */
    public static DType dtype(Device device) {
        return DType.fromCode(LibTorch.autocastDtype(device.type().code));
    }

    /** An open autocast region; closing it restores the previous state. */
    public static final class Region implements AutoCloseable {
        private final Device.Type type;
        private final int previousDtype;
        private final int previousEnabled;
        private boolean closed;

        private Region(Device.Type type, DType dtype, boolean enabled) {
            this.type = type;
            this.previousDtype = LibTorch.autocastDtype(type.code);
            this.previousEnabled = LibTorch.autocastEnter(type.code, dtype.code(), enabled ? 1 : 0);
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            LibTorch.autocastExit(type.code, previousEnabled, previousDtype);
        }
    }
}
