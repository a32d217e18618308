package dev.dit4j.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Per-thread native scratch memory for call arguments (shapes, handle arrays), so that a call
 * does not allocate native memory. Opened and closed around one call; nesting is allowed.
 */
final class Scratch implements AutoCloseable {
    private static final long CAPACITY = 16 * 1024;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private final MemorySegment buffer = Arena.ofAuto().allocate(CAPACITY, 8);
    private final long[] marks = new long[64];
    private long top;
    private int depth;

    static Scratch open() {
        Scratch s = LOCAL.get();
        if (s.depth == s.marks.length) throw new IllegalStateException("scratch nesting too deep");
        s.marks[s.depth++] = s.top;
        return s;
    }

    /** Room for n bytes, 8-aligned; falls back to GC-managed memory when the buffer is full. */
    MemorySegment bytes(long n) {
        long size = (n + 7) & ~7L;
        if (top + size > CAPACITY) return Arena.ofAuto().allocate(Math.max(size, 8), 8);
        MemorySegment slice = buffer.asSlice(top, Math.max(size, 8));
        top += Math.max(size, 8);
        return slice;
    }

    MemorySegment longs(long[] values) {
        if (values == null) return MemorySegment.NULL;
        MemorySegment seg = bytes(8L * values.length);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_LONG, 0, values.length);
        return seg;
    }

    MemorySegment pointers(MemorySegment[] handles) {
        if (handles == null) return MemorySegment.NULL;
        MemorySegment seg = bytes(8L * handles.length);
        for (int i = 0; i < handles.length; i++) {
            seg.setAtIndex(ValueLayout.ADDRESS, i, handles[i] == null ? MemorySegment.NULL : handles[i]);
        }
        return seg;
    }

    @Override
    public void close() {
        top = marks[--depth];
    }
}
