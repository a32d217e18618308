package dev.dit4j.bindings;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * glibc's {@code mallopt}, which libtorch's CPU tensors are allocated through (malloc), looked up
 * in the C library the JVM already uses. Absent (every call returns false) where the C library
 * has no {@code mallopt}, as on macOS.
 */
public final class GlibcMalloc {
    private GlibcMalloc() {}

    /** mallopt's parameter numbers (malloc.h). */
    public static final int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    private static final Optional<MethodHandle> MALLOPT = Linker.nativeLinker().defaultLookup().find("mallopt")
            .map(symbol -> Linker.nativeLinker().downcallHandle(symbol,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)));

    public static boolean isAvailable() {
        return MALLOPT.isPresent();
    }

    /** mallopt(param, value): true when glibc accepted it. */
    public static boolean mallopt(int param, int value) {
        if (MALLOPT.isEmpty()) return false;
        try {
            return (int) MALLOPT.get().invokeExact(param, value) == 1;
        } catch (Throwable t) {
            throw new IllegalStateException("mallopt(" + param + ", " + value + ") failed", t);
        }
    }
}
