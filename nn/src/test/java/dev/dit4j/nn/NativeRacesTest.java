package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Closing a generator, or the arena of borrowed memory, while another thread's native call uses it: never a free under the call. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NativeRacesTest {
    @Test
    void closingAGeneratorDuringADrawDefersTheFreeToTheDraw() throws Exception {
        boolean deferred = false;
        for (int attempt = 0; attempt < 5 && !deferred; attempt++) {
            Generator g = Generator.cpu(attempt);
            CountDownLatch calling = new CountDownLatch(1);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<long[]> draw = pool.submit(() -> {
                    calling.countDown();
                    try (Tensor r = Tensor.randn(new long[] {4096, 4096}, DType.FLOAT32, Device.CPU, g)) { // long enough to be in flight
                        return r.shape();
                    }
                });
                calling.await();
                Thread.sleep(5);
                long liveBefore = Generator.LIVE.get();
                g.close();
                boolean freedAtOnce = Generator.LIVE.get() < liveBefore;
                try {
                    assertArrayEquals(new long[] {4096, 4096}, draw.get());
                    deferred = !freedAtOnce; // the draw ran to the end: close() must have left the handle to it
                } catch (java.util.concurrent.ExecutionException e) {
                    assertInstanceOf(IllegalStateException.class, e.getCause()); // the close came first
                }
                assertTrue(g.isClosed());
            } finally {
                pool.shutdownNow();
            }
        }
        assertTrue(deferred, "close() during a draw on another thread must defer the free until the draw returns");
    }

    @Test
    void racingClosesFreeAGeneratorOnceAndLaterUseIsNamed() throws Exception {
        for (int round = 0; round < 50; round++) {
            Generator g = Generator.cpu(round);
            long live = Generator.LIVE.get();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> closers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    g.close();
                });
                t.start();
                closers.add(t);
            }
            go.countDown();
            for (Thread t : closers) t.join();
            assertEquals(live - 1, Generator.LIVE.get(), "freed exactly once");
        }
        Generator g = Generator.cpu(1);
        g.close();
        var e = assertThrows(IllegalStateException.class, () -> Tensor.randn(new long[] {2}, DType.FLOAT32, Device.CPU, g));
        assertEquals("generator used after close()", e.getMessage());
        assertThrows(IllegalStateException.class, () -> g.seed(3));
        assertThrows(IllegalStateException.class, g::state);
    }

    /** The arena of a wrapped segment, closed from another thread while an op reads it: the close is refused until the op returns. */
    @Test
    void anArenaCannotCloseUnderAnOpOnItsMemory() throws Exception {
        Arena arena = Arena.ofShared();
        MemorySegment segment = arena.allocate(4L * 1024, 4);
        for (int i = 0; i < 1024; i++) segment.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 1f);
        Tensor t = Tensor.wrap(segment, DType.FLOAT32, 1024);
        AtomicReference<Throwable> closing = new AtomicReference<>();
        BorrowedMemory.duringHold = () -> { // inside the op's call, on this thread: another thread tries to close the arena
            Thread closer = new Thread(() -> {
                try {
                    arena.close();
                    closing.set(new AssertionError("the arena closed while an op was reading its memory"));
                } catch (Throwable e) {
                    closing.set(e);
                }
            });
            closer.start();
            try {
                closer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (Tensor sum = t.sum()) {
            assertEquals(1024f, sum.item(), "the op read intact memory");
        } finally {
            BorrowedMemory.duringHold = null;
        }
        assertInstanceOf(IllegalStateException.class, closing.get(), "the close was refused: " + closing.get());
        arena.close(); // after the op: closes
        var e = assertThrows(IllegalStateException.class, t::sum);
        assertTrue(e.getMessage().contains("arena is closed"), e.getMessage());
        t.close();
    }

    /** Ops on borrowed memory still work from threads other than the one that made the tensor, and with a confined arena on its own thread. */
    @Test
    void borrowedMemoryWorksFromAnyThreadAndFromConfinedArenas() throws Exception {
        try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
            MemorySegment a = shared.allocate(16, 4), b = confined.allocate(16, 4);
            for (int i = 0; i < 4; i++) {
                a.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, i);
                b.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 10);
            }
            try (Tensor ta = Tensor.wrap(a, DType.FLOAT32, 4); Tensor tb = Tensor.wrap(b, DType.FLOAT32, 4); Tensor s = ta.add(tb)) {
                assertArrayEquals(new float[] {10, 11, 12, 13}, s.toFloatArray());
                ExecutorService pool = Executors.newSingleThreadExecutor();
                try {
                    assertArrayEquals(new float[] {0, 1, 2, 3}, pool.submit(ta::toFloatArray).get());
                    assertArrayEquals(new float[] {10, 10, 10, 10}, pool.submit(tb::toFloatArray).get(), "a confined arena off its thread: as before");
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }
}
