package dev.dit4j.nn.dist;

import dev.dit4j.bindings.LibTorch;
import dev.dit4j.bindings.TorchException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;

/**
 * A collective in flight. {@link #await} blocks until it has finished (the tensors it was given
 * then hold the result) and throws a {@link DistributedException} when it failed or did not
 * finish in time. Close it once awaited; closing early does not cancel it.
 */
public final class Work implements AutoCloseable {
    /** How long a wait goes on before it says so, and then how often. */
    static volatile Duration progressEvery = Duration.ofSeconds(30);
    private static final java.util.concurrent.ScheduledThreadPoolExecutor WATCH = watch();

    private MemorySegment handle;
    private final String what;
    private final Duration timeout;

    Work(MemorySegment handle, String what, Duration timeout) {
        this.handle = handle;
        this.what = what;
        this.timeout = timeout;
    }

    private static java.util.concurrent.ScheduledThreadPoolExecutor watch() {
        var e = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().daemon().name("dit4j-collective-watch").unstarted(r));
        e.setRemoveOnCancelPolicy(true);
        return e;
    }

    /** Waits up to the group's timeout. */
    public void await() {
        await(Duration.ZERO);
    }

    /** Waits up to {@code timeout} (zero: the group's timeout). */
    public void await(Duration timeout) {
        long start = System.nanoTime();
        long limit = (timeout.isZero() ? this.timeout : timeout).toSeconds();
        long every = progressEvery.toMillis();
        // a wait that goes on says so (a peer is slow or gone), every progressEvery, until it ends or times out
        var progress = WATCH.scheduleAtFixedRate(() -> System.err.printf("dit4j: %s waiting for the other ranks, %d s of %d%n", what,
                (System.nanoTime() - start) / 1_000_000_000L, limit), every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
            LibTorch.workWait(handle(), timeout.toMillis());
        } catch (TorchException e) {
            throw ProcessGroup.failure(what, e);
        } finally {
            progress.cancel(false);
        }
    }

    public boolean isCompleted() {
        return LibTorch.workIsCompleted(handle()) == 1;
    }

    private MemorySegment handle() {
        if (handle == null) throw new IllegalStateException(what + ": work used after close()");
        return handle;
    }

    @Override
    public void close() {
        if (handle != null) {
            LibTorch.workFree(handle);
            handle = null;
        }
    }
}
