package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Tensors over Java-owned memory and memory views of tensors: no copies, enforced lifetimes. */
class ZeroCopyTest extends TestSupport {
    @Test
    void tensorOverSegmentSharesMemoryBothWays() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(ValueLayout.JAVA_FLOAT, 6);
            for (int i = 0; i < 6; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            try (Tensor t = Tensor.wrap(seg, DType.FLOAT32, 2, 3)) {
                assertEquals(seg.address(), t.asSegment().address(), "the tensor's data is the segment itself");
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, 4, 40f);
                assertEquals(40f, t.select(0, 1).select(0, 1).item());
                t.mul_(2);
                assertEquals(80f, seg.getAtIndex(ValueLayout.JAVA_FLOAT, 4));
                assertEquals(10f, seg.getAtIndex(ValueLayout.JAVA_FLOAT, 5));
            }
        }
    }

    @Test
    void segmentViewOfTensorSharesMemoryBothWays() {
        try (Tensor t = Tensor.zeros(new long[] {4}, DType.FLOAT64, Device.CPU)) {
            MemorySegment view = t.asSegment();
            assertEquals(32, view.byteSize());
            view.setAtIndex(ValueLayout.JAVA_DOUBLE, 2, 7.5);
            assertArrayEquals(new double[] {0, 0, 7.5, 0}, t.toDoubleArray());
            t.add_(1);
            assertEquals(8.5, view.getAtIndex(ValueLayout.JAVA_DOUBLE, 2));
            assertEquals(view.address(), t.asSegment().address(), "views do not copy");
        }
    }

    @Test
    void segmentViewDiesWithItsTensor() {
        Tensor t = Tensor.ones(new long[] {3}, DType.FLOAT32, Device.CPU);
        MemorySegment view = t.asSegment();
        t.close();
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_FLOAT, 0),
                "reading a view after its tensor is closed must fail, not read freed memory");
    }

    @Test
    void wrappedTensorAndItsViewsFailAfterTheArenaCloses() {
        Arena arena = Arena.ofConfined();
        MemorySegment seg = arena.allocate(ValueLayout.JAVA_FLOAT, 4);
        Tensor t = Tensor.wrap(seg, DType.FLOAT32, 4);
        Tensor view = t.reshape(2, 2);
        Tensor copy = t.add(1);
        arena.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.sum());
        assertTrue(e.getMessage().contains("arena is closed"), e.getMessage());
        assertThrows(IllegalStateException.class, view::toFloatArray);
        assertArrayEquals(new float[] {1, 1, 1, 1}, copy.toFloatArray(), "results that do not alias stay usable");
        t.close();
        view.close();
    }

    @Test
    void ownedArenaIsClosedWhenLibtorchReleasesTheMemory() {
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(ValueLayout.JAVA_INT, 3);
        int pendingBefore = LibTorch.pendingFreeActions();
        Tensor t = Tensor.wrapOwned(seg, arena, DType.INT32, 3);
        Tensor view = t.narrow(0, 1, 2);
        t.close();
        assertTrue(arena.scope().isAlive(), "a view still uses the memory");
        view.close();
        assertFalse(arena.scope().isAlive(), "the last tensor freed closes the arena");
        assertEquals(pendingBefore, LibTorch.pendingFreeActions());
    }

    @Test
    void wrapChecksSizeAlignmentAndHeap() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate(8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(small, DType.FLOAT32, 3));
            assertTrue(e.getMessage().contains("needs 12"), e.getMessage());
            MemorySegment odd = arena.allocate(64, 8).asSlice(1);
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(odd, DType.FLOAT32, 2));
        }
        assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(MemorySegment.ofArray(new float[4]), DType.FLOAT32, 4));
    }

    @Test
    void asSegmentNeedsContiguousCpuTensor() {
        Tensor t = Tensor.zeros(new long[] {2, 3}, DType.FLOAT32, Device.CPU).transpose(0, 1);
        assertThrows(IllegalStateException.class, t::asSegment);
    }
}
