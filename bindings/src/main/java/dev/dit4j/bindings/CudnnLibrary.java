package dev.dit4j.bindings;

import dev.dit4j.bindings.cudnn.Cudnn;
import java.util.OptionalLong;

/**
 * cuDNN through jextract's bindings, when the library is present. On a machine without cuDNN
 * (any CPU machine) every call reports absence instead of failing: the symbols are resolved only
 * after the loader has found and loaded libcudnn.
 */
public final class CudnnLibrary {
    private CudnnLibrary() {}

    public static boolean isLoaded() {
        return NativeLoader.load().cudnnLibrary() != null;
    }

    /** cudnnGetVersion() (e.g. 91400 for 9.14.0), read through the generated bindings; empty without cuDNN. */
    public static OptionalLong version() {
        return isLoaded() ? OptionalLong.of(Cudnn.cudnnGetVersion()) : OptionalLong.empty();
    }

    /** The CUDA runtime version cuDNN was built for; empty without cuDNN. */
    public static OptionalLong cudartVersion() {
        return isLoaded() ? OptionalLong.of(Cudnn.cudnnGetCudartVersion()) : OptionalLong.empty();
    }

    /** cuDNN's text for a status code. */
    public static String errorString(int status) {
        if (!isLoaded()) throw new IllegalStateException("cuDNN is not loaded: " + NativeLoader.load().cudnnStatus());
        return Cudnn.cudnnGetErrorString(status).getString(0);
    }
}
