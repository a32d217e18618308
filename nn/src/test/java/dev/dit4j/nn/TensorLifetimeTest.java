package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tensor lifetimes that cannot crash the JVM: close() racing ops on other threads, and borrowed
 * memory (Tensor.wrap over a caller's segment) under autograd.
 */
class TensorLifetimeTest extends TestSupport {

    // ---- close() against ops on other threads ---------------------------------------------

    /** What a worker did before the shared tensor was closed under it. */
    private record Outcome(long succeeded, long refused) {}

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void closingWhileOtherThreadsRunOpsNeverCrashesOrLeaks() throws Exception {
        int workers = 4;
        ExecutorService pool = Executors.newFixedThreadPool(workers + 1);
        long succeeded = 0;
        long refused = 0;
        try {
            for (int round = 0; round < 150; round++) {
                Tensor shared = Tensor.randn(8, 16);
                Tensor other = Tensor.randn(16); // closed by the test at the end of the round
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Outcome>> futures = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    int kind = w;
                    futures.add(pool.submit(() -> hammer(shared, other, kind, start)));
                }
                long delayNanos = (round % 10) * 20_000L; // close early, late, and in between
                Future<?> closer = pool.submit(() -> {
                    start.await();
                    long until = System.nanoTime() + delayNanos;
                    while (System.nanoTime() < until) Thread.onSpinWait();
                    shared.close(); // not the creating thread, and never waits for the workers
                    return null;
                });
                start.countDown();
                closer.get();
                for (Future<Outcome> f : futures) {
                    Outcome o = f.get();
                    succeeded += o.succeeded();
                    refused += o.refused();
                }
                assertTrue(shared.isClosed());
                other.close();
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(succeeded > 0, "the workers ran ops before the close");
        assertTrue(refused > 0, "the workers saw the close");
        // TestSupport checks that every handle, including the shared ones freed by a worker, is gone.
    }

    /** Runs ops on the shared tensor until it is closed; anything but a "closed" refusal fails the test. */
    private static Outcome hammer(Tensor shared, Tensor other, int kind, CountDownLatch start) throws InterruptedException {
        start.await();
        long ok = 0;
        while (true) {
            try (TensorScope scope = TensorScope.open()) { // frees this iteration's results, even on failure
                switch (kind) {
                    case 0 -> shared.add(shared).sum();
                    case 1 -> assertEquals(8, Functional.linear(shared, shared, null).size(1));
                    case 2 -> {
                        assertArrayEquals(new long[] {8, 16}, shared.shape());
                        assertEquals(1, shared.mean().toDoubleArray().length);
                        assertEquals(16, Tensor.cat(List.of(shared, shared), 0).mul(other).size(0));
                    }
                    default -> {
                        MemorySegment view = shared.asSegment();
                        view.getAtIndex(ValueLayout.JAVA_FLOAT, 127); // a view read racing the free
                        shared.view(16, 8).share();
                    }
                }
                ok++;
            } catch (IllegalStateException e) {
                String m = String.valueOf(e.getMessage());
                // the tensor refused a call after close(), or FFM refused a read of a view freed with it
                assertTrue(m.contains("tensor used after close()") || m.contains("closed"), m);
                return new Outcome(ok, 1);
            }
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void closeDuringALongOpDefersTheFreeToTheOp() throws Exception {
        boolean deferred = false;
        for (int attempt = 0; attempt < 5 && !deferred; attempt++) {
            Tensor big = Tensor.randn(1024, 1024);
            CountDownLatch calling = new CountDownLatch(1);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<long[]> product = pool.submit(() -> {
                    calling.countDown();
                    try (Tensor r = big.matmul(big)) { // long enough to be in flight when close() comes
                        return r.shape();
                    }
                });
                calling.await();
                Thread.sleep(5);
                long liveBefore = Torch.liveTensors();
                big.close();
                boolean freedAtOnce = Torch.liveTensors() < liveBefore;
                try {
                    assertArrayEquals(new long[] {1024, 1024}, product.get());
                    // the op ran to the end on a closed tensor: close() must have left the handle to it
                    deferred = !freedAtOnce;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertInstanceOf(IllegalStateException.class, e.getCause()); // the close came first
                }
                assertTrue(big.isClosed());
            } finally {
                pool.shutdownNow();
            }
        }
        assertTrue(deferred, "close() during an op on another thread must defer the free until the op returns");
    }

    @Test
    void closingAScopedTensorFromAnotherThreadLeavesTheScopeConsistent() throws Exception {
        Tensor t = Tensor.ones(3); // owned by this thread's test scope
        Thread closer = new Thread(t::close);
        closer.start();
        closer.join();
        assertTrue(t.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, t::sum);
        assertEquals("tensor used after close()", e.getMessage());
        Tensor u = Tensor.ones(2);
        AtomicLong failures = new AtomicLong();
        Thread releaser = new Thread(() -> {
            try {
                TensorScope.release(u);
            } catch (IllegalStateException expected) {
                failures.incrementAndGet();
            }
        });
        releaser.start();
        releaser.join();
        assertEquals(1, failures.get(), "another thread cannot take a tensor out of this thread's scope");
        // the scope then closes both: t a second time (a no-op), u for the first time
    }

    // ---- borrowed memory under autograd ------------------------------------------------------

    private static MemorySegment filled(Arena arena, double... values) {
        MemorySegment seg = arena.allocate(ValueLayout.JAVA_DOUBLE, values.length);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_DOUBLE, 0, values.length);
        return seg;
    }

    /** dL/dW for L = sum(W @ x) with x a copy held by the graph: every row of the gradient is x's row sums. */
    private static double[] expectedWeightGrad(double[] x, int rows, int k, int n) {
        double[] g = new double[rows * k];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < n; j++) g[r * k + i] += x[i * n + j];
            }
        }
        return g;
    }

    @Test
    void backwardThroughABorrowedInputMatchesACopyWhileTheArenaIsAlive() {
        double[] xs = {1, 2, 3, 4, 5, 6, 7, 8};
        Tensor w = seeded(1, 3, 4).requiresGrad(true);
        Tensor w2 = w.detach().clone().requiresGrad(true);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.wrap(filled(arena, xs), DType.FLOAT64, 4, 2);
            w.matmul(x).sum().backward();
            w2.matmul(x.clone()).sum().backward();
            assertClose(w2.grad(), w.grad(), 0);
            assertClose(expectedWeightGrad(xs, 3, 4, 2), w.grad(), 1e-12);

            x.requiresGrad(true); // a borrowed leaf: its gradient still arrives
            Functional.linear(w, x.transpose(0, 1), null).sum().backward();
            assertClose(new double[] {
                    w.select(1, 0).sum().item(), w.select(1, 0).sum().item(),
                    w.select(1, 1).sum().item(), w.select(1, 1).sum().item(),
                    w.select(1, 2).sum().item(), w.select(1, 2).sum().item(),
                    w.select(1, 3).sum().item(), w.select(1, 3).sum().item()}, x.grad(), 1e-12);
        }
    }

    @Test
    void theGraphKeepsItsOwnCopyOfBorrowedInputsAfterTheArenaCloses() {
        double[] xs = {1, 2, 3, 4, 5, 6, 7, 8};
        Tensor w = seeded(2, 3, 4).requiresGrad(true);
        Tensor wLinear = seeded(3, 2, 4).requiresGrad(true);
        Arena arena = Arena.ofConfined();
        MemorySegment seg = filled(arena, xs);
        Tensor x = Tensor.wrap(seg, DType.FLOAT64, 4, 2);
        Tensor y = w.matmul(x);
        Tensor z = Functional.linear(x.transpose(0, 1), wLinear, null); // the [N, K] @ W^T path
        // the caller reuses its buffer, then frees it, before backward runs
        for (int i = 0; i < xs.length; i++) seg.setAtIndex(ValueLayout.JAVA_DOUBLE, i, -100);
        arena.close();
        assertThrows(IllegalStateException.class, x::sum, "the borrowed tensor itself is dead");
        y.sum().backward();
        z.sum().backward();
        assertClose(expectedWeightGrad(xs, 3, 4, 2), w.grad(), 1e-12);
        // d sum(x^T W^T)/dW[r, i] = sum_j x[i, j]
        assertClose(new double[] {3, 7, 11, 15, 3, 7, 11, 15}, wLinear.grad(), 1e-12);
    }

    @Test
    void inPlaceOpsStillWriteBorrowedMemoryWhileRecording() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = filled(arena, 1, 2, 3);
            Tensor x = Tensor.wrap(seg, DType.FLOAT64, 3);
            Tensor w = Tensor.of(new double[] {2, 2, 2}, 3).requiresGrad(true);
            x.mul_(w);
            assertEquals(6.0, seg.getAtIndex(ValueLayout.JAVA_DOUBLE, 2), "mul_ wrote the caller's memory");
            x.sum().backward();
            assertClose(new double[] {1, 2, 3}, w.grad(), 0);
        }
    }

    @Test
    void aBorrowedGradientIsStoredAsACopy() {
        Tensor p = Tensor.zeros(new long[] {2}, DType.FLOAT64, Device.CPU);
        try (Arena arena = Arena.ofConfined()) {
            p.setGrad(Tensor.wrap(filled(arena, 4, 5), DType.FLOAT64, 2));
        }
        assertClose(new double[] {4, 5}, p.grad(), 0);
    }
}
