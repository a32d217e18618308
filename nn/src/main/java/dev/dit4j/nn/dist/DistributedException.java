package dev.dit4j.nn.dist;

/**
 * A collective or the rendezvous failed: a peer did not answer in time ({@link #timedOut()}), or
 * a peer or the network failed (a worker died, a connection closed). The process group cannot be
 * used afterwards; the job should stop (or restart from its last checkpoint).
 */
public final class DistributedException extends RuntimeException {
    private final boolean timedOut;

    public DistributedException(String message, boolean timedOut, Throwable cause) {
        super(message, cause);
        this.timedOut = timedOut;
    }

    public boolean timedOut() {
        return timedOut;
    }
}
