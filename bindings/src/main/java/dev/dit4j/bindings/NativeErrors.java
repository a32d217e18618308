package dev.dit4j.bindings;

import dev.dit4j.bindings.shim.Dit4jNative;
import java.lang.foreign.MemorySegment;

/** Turns the shim's error convention (NULL handle, negative status) into exceptions. */
class NativeErrors {
    // Every checked call passes through this class first: load libtorch and the shim before any.
    static {
        NativeLoader.load();
    }

    NativeErrors() {}

    static MemorySegment checkHandle(MemorySegment handle) {
        if (handle.address() == 0) throw lastError();
        return handle;
    }

    static int checkStatus(int status) {
        if (status < 0) throw lastError();
        return status;
    }

    static long checkStatus(long status) {
        if (status < 0) throw lastError();
        return status;
    }

    static MemorySegment orNull(MemorySegment handle) {
        return handle == null ? MemorySegment.NULL : handle;
    }

    static TorchException lastError() {
        int code = Dit4jNative.dt_last_error_kind();
        String message = Dit4jNative.dt_last_error().getString(0);
        Dit4jNative.dt_clear_error();
        TorchException.Kind[] kinds = TorchException.Kind.values();
        TorchException.Kind kind = code > 0 && code < kinds.length ? kinds[code] : TorchException.Kind.UNKNOWN;
        return new TorchException(kind, message.isEmpty() ? "libtorch call failed without a message" : message);
    }
}
