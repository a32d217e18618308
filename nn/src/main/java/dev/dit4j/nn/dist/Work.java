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
    private MemorySegment handle;
    private final String what;

    Work(MemorySegment handle, String what) {
        this.handle = handle;
        this.what = what;
    }

    /** Waits up to the group's timeout. */
    public void await() {
        await(Duration.ZERO);
    }

    /** Waits up to {@code timeout} (zero: the group's timeout). */
    public void await(Duration timeout) {
        try {
            LibTorch.workWait(handle(), timeout.toMillis());
        } catch (TorchException e) {
            throw ProcessGroup.failure(what, e);
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
