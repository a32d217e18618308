package dev.dit4j.nn;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;
import java.util.function.Supplier;

/**
 * Keeps the arena of memory a tensor borrows ({@link Tensor#wrap(MemorySegment, DType, long...)})
 * from closing while a native call reads it. The FFM API's one public way to hold an arena open is
 * a downcall that takes one of its segments: the linker keeps the segment's scope acquired for
 * the call, and a shared arena's {@code close()} then fails with IllegalStateException instead of
 * freeing the memory under libtorch. So the call runs inside such a downcall: libc's
 * {@code bsearch(key, base, 1, 1, compare)} with the borrowed segment as the key, which calls
 * {@code compare} (an upcall into this class, where the call runs) exactly once.
 *
 * <p>A confined arena can only be closed by its owner thread, and a call on another thread cannot
 * hold it (the linker refuses a confined segment off its thread): such a call runs as before.
 */
final class BorrowedMemory {
    private BorrowedMemory() {}

    private static final MethodHandle BSEARCH;
    private static final MemorySegment COMPARE;
    private static final MemorySegment BASE = Arena.global().allocate(1);
    private static final ThreadLocal<Frame> CURRENT = new ThreadLocal<>();

    /** Test hook: runs inside the hold, before the call (null: none). */
    static volatile Runnable duringHold;

    static {
        Linker linker = Linker.nativeLinker();
        BSEARCH = linker.downcallHandle(linker.defaultLookup().find("bsearch").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        try {
            MethodHandle compare = MethodHandles.lookup().findStatic(BorrowedMemory.class, "compare",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
            COMPARE = linker.upcallStub(compare, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS),
                    Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final class Frame {
        final Supplier<?> body;
        Object result;
        Throwable error;
        boolean ran;

        Frame(Supplier<?> body) {
            this.body = body;
        }
    }

    /** Runs {@code body} with the arenas of {@code segments} held open (none closes until it returns). */
    static <R> R holding(List<MemorySegment> segments, Supplier<R> body) {
        if (segments.isEmpty()) return body.get();
        return hold(segments.getFirst(), () -> holding(segments.subList(1, segments.size()), body));
    }

    @SuppressWarnings("unchecked")
    private static <R> R hold(MemorySegment segment, Supplier<R> body) {
        if (!segment.scope().isAlive()) throw closed();
        Frame frame = new Frame(() -> {
            Runnable hook = duringHold;
            if (hook != null) hook.run();
            return body.get();
        });
        Frame previous = CURRENT.get();
        CURRENT.set(frame);
        try {
            MemorySegment ignored = (MemorySegment) BSEARCH.invokeExact(segment, BASE, 1L, 1L, COMPARE);
        } catch (WrongThreadException e) {
            CURRENT.set(previous);
            return body.get(); // a confined arena, used off its thread: it cannot be held (nor closed from here)
        } catch (IllegalStateException e) {
            if (!frame.ran) throw closed(); // closed between the check and the call
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("holding borrowed memory failed", t);
        } finally {
            if (CURRENT.get() == frame) CURRENT.set(previous);
        }
        if (frame.error instanceof RuntimeException r) throw r;
        if (frame.error instanceof Error e) throw e;
        if (frame.error != null) throw new IllegalStateException(frame.error);
        return (R) frame.result;
    }

    /** The upcall: runs the frame's body; never throws into native code. */
    private static int compare(MemorySegment key, MemorySegment element) {
        Frame frame = CURRENT.get();
        frame.ran = true;
        try {
            frame.result = frame.body.get();
        } catch (Throwable t) {
            frame.error = t;
        }
        return 0;
    }

    static IllegalStateException closed() {
        return new IllegalStateException("tensor wraps a MemorySegment whose arena is closed: the tensor must not outlive the memory it wraps");
    }
}
