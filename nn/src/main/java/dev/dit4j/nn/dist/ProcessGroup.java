package dev.dit4j.nn.dist;

import dev.dit4j.bindings.LibTorch;
import dev.dit4j.bindings.TorchException;
import dev.dit4j.nn.Collectives;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.function.Function;

/**
 * A group of processes that run collectives together: libtorch's c10d process groups, Gloo for
 * CPU tensors (and as a fallback for CUDA ones), NCCL for CUDA tensors where libtorch has it.
 * Rank 0 serves a c10d TCP store at the rendezvous address; {@link #create} returns once every rank
 * has joined. Every collective is called by all ranks in the same order; the {@code ...Async}
 * forms return a {@link Work}, the others wait. A rank that dies or stalls makes the others fail
 * with a {@link DistributedException} within the timeout, never hang.
 */
public final class ProcessGroup implements AutoCloseable {
    /** The c10d backend (codes as dit4j.h's dt_dist_backend). */
    public enum Backend {
        GLOO, NCCL;

        public boolean available() {
            return LibTorch.distBackendAvailable(ordinal()) == 1;
        }

        /** NCCL for CUDA devices when this build has it, else Gloo. */
        public static Backend forDevice(Device device) {
            return device.isCuda() && NCCL.available() ? NCCL : GLOO;
        }
    }

    /** How values combine across ranks (codes as dt_reduce_op). */
    public enum ReduceOp { SUM, AVG, MAX, MIN }

    /** Long enough for a slow first step, short enough that a lost or never-started worker is noticed: 5 minutes. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    /** The environment variable that sets the timeout, in seconds. */
    public static final String TIMEOUT_ENV = "DIT4J_DIST_TIMEOUT";
    /** How often a rank waiting to join says so. */
    static volatile Duration progressEvery = Duration.ofSeconds(10);

    /** {@value #TIMEOUT_ENV} seconds from {@code env}, else {@link #DEFAULT_TIMEOUT}; a bad value is an error naming it. */
    public static Duration timeoutFromEnvironment(java.util.Map<String, String> env) {
        String text = env.get(TIMEOUT_ENV);
        if (text == null || text.isBlank()) return DEFAULT_TIMEOUT;
        try {
            double seconds = Double.parseDouble(text.trim());
            if (seconds > 0 && seconds <= 7 * 24 * 3600) return Duration.ofMillis(Math.max(1, Math.round(seconds * 1000)));
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(TIMEOUT_ENV + " must be a number of seconds in (0, 604800], got '" + text + "'");
    }

    private MemorySegment handle;
    private final Backend backend;
    private final int rank;
    private final int size;

    private final Duration timeout;

    private ProcessGroup(MemorySegment handle, Backend backend, int rank, int size, Duration timeout) {
        this.timeout = timeout;
        this.handle = handle;
        this.backend = backend;
        this.rank = rank;
        this.size = size;
    }

    /**
     * Joins the job: blocks until all {@code r.worldSize()} ranks have met (or {@code timeout}
     * passes); {@code timeout} also bounds every collective. NCCL binds CUDA device {@code r.localRank()}.
     */
    public static ProcessGroup create(Backend backend, Rendezvous r, Duration timeout) {
        if (!backend.available()) {
            throw new UnsupportedOperationException("this dit4j build has no " + backend + " process groups"
                    + (backend == Backend.NCCL ? " (a CUDA libtorch with NCCL is needed): use GLOO" : " (gloo's headers were missing when native/build.sh ran)"));
        }
        if (timeout.toMillis() < 1) throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
        String at = r.masterAddr() + ":" + r.masterPort();
        try {
            java.net.InetAddress.getByName(r.masterAddr());
        } catch (java.net.UnknownHostException | SecurityException e) {
            throw new IllegalArgumentException("MASTER_ADDR " + r.masterAddr() + " is not an address or a host name this machine can resolve: "
                    + "set it to rank 0's address (127.0.0.1 on one machine)");
        }
        long start = System.nanoTime();
        Thread progress = Thread.ofPlatform().daemon().name("dit4j-rendezvous").start(() -> {
            try {
                for (long next = progressEvery.toMillis(); ; next += progressEvery.toMillis()) {
                    Thread.sleep(Math.max(1, next - (System.nanoTime() - start) / 1_000_000));
                    System.err.printf("dit4j: %s, %d s of %d%n", waiting(r, at), (System.nanoTime() - start) / 1_000_000_000L, timeout.toSeconds());
                }
            } catch (InterruptedException e) {
                // joined, or failed: no more lines
            }
        });
        try {
            MemorySegment h = LibTorch.processGroupNew(backend.ordinal(), r.masterAddr(), r.masterPort(), r.rank(), r.worldSize(),
                    timeout.toMillis(), backend == Backend.NCCL ? r.localRank() : -1);
            return new ProcessGroup(h, backend, r.rank(), r.worldSize(), timeout);
        } catch (TorchException e) {
            if (e.kind() == TorchException.Kind.TIMEOUT) {
                String who = r.rank() == 0 ? "the other " + (r.worldSize() - 1) + " rank(s) did not all join" : "rank 0's store did not answer";
                throw new DistributedException("rank " + r.rank() + " of " + r.worldSize() + " joining at " + at + ": " + who + " within "
                        + timeout.toSeconds() + " s: start every rank with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE (" + TIMEOUT_ENV
                        + ", or a command's --dist-timeout, sets the wait in seconds) [" + firstLine(e.getMessage()) + "]", true, e);
            }
            throw failure("rank " + r.rank() + " of " + r.worldSize() + " joining at " + at, e);
        } finally {
            progress.interrupt();
        }
    }

    private static String waiting(Rendezvous r, String at) {
        return r.rank() == 0 ? "rank 0 waiting for the other " + (r.worldSize() - 1) + " of " + r.worldSize() + " ranks at " + at
                : "rank " + r.rank() + " of " + r.worldSize() + " waiting for rank 0 at " + at;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        String line = s.lines().findFirst().orElse("");
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    public Backend backend() {
        return backend;
    }

    public int rank() {
        return rank;
    }

    public int size() {
        return size;
    }

    /** t = op over all ranks' t, in place. */
    public Work allReduceAsync(Tensor t, ReduceOp op) {
        return start("all-reduce", h -> Collectives.allReduce(h, t, op.ordinal()));
    }

    public void allReduce(Tensor t, ReduceOp op) {
        try (Work w = allReduceAsync(t, op)) {
            w.await();
        }
    }

    /** t = rank {@code root}'s t, in place. */
    public Work broadcastAsync(Tensor t, int root) {
        return start("broadcast", h -> Collectives.broadcast(h, t, root));
    }

    public void broadcast(Tensor t, int root) {
        try (Work w = broadcastAsync(t, root)) {
            w.await();
        }
    }

    /** out [size * n, ...] = every rank's in [n, ...], in rank order. */
    public Work allGatherAsync(Tensor out, Tensor in) {
        return start("all-gather", h -> Collectives.allGather(h, out, in));
    }

    public void allGather(Tensor out, Tensor in) {
        try (Work w = allGatherAsync(out, in)) {
            w.await();
        }
    }

    /** out [n, ...] = op over ranks of slice {@code rank} of in [size * n, ...]. */
    public Work reduceScatterAsync(Tensor out, Tensor in, ReduceOp op) {
        return start("reduce-scatter", h -> Collectives.reduceScatter(h, out, in, op.ordinal()));
    }

    public void reduceScatter(Tensor out, Tensor in, ReduceOp op) {
        try (Work w = reduceScatterAsync(out, in, op)) {
            w.await();
        }
    }

    /** Returns once every rank has reached its barrier. */
    public void barrier() {
        try (Work w = start("barrier", LibTorch::barrier)) {
            w.await();
        }
    }

    private Work start(String what, Function<MemorySegment, MemorySegment> call) {
        if (handle == null) throw new IllegalStateException("process group used after close()");
        String described = what + " on rank " + rank + " of " + size;
        try {
            return new Work(call.apply(handle), described, timeout);
        } catch (TorchException e) {
            throw failure(described, e);
        }
    }

    /** A distributed failure as a {@link DistributedException}; bad arguments stay {@link TorchException}s. */
    static RuntimeException failure(String what, TorchException e) {
        return switch (e.kind()) {
            case TIMEOUT -> new DistributedException(what + " timed out: " + e.getMessage(), true, e);
            case DISTRIBUTED -> new DistributedException(what + " failed (a peer or the network): " + e.getMessage(), false, e);
            default -> e;
        };
    }

    /** Leaves the group; waits for queued collectives (each bounded by the timeout). Idempotent. */
    @Override
    public void close() {
        if (handle != null) {
            LibTorch.processGroupFree(handle);
            handle = null;
        }
    }
}
