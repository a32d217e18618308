package dev.dit4j.nn;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reports tensors that became unreachable without being closed. It never frees them: the GC
 * cannot see native (GPU) memory pressure, so ownership stays explicit. Disable with
 * {@code -Ddit4j.leakReport=false}.
 */
public final class Leaks {
    private static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("dit4j.leakReport", "true"));
    private static final Cleaner CLEANER = Cleaner.create();
    private static final AtomicLong LEAKED = new AtomicLong();
    private static final Tracker NONE = new Tracker();

    private Leaks() {}

    /** How many tensors were garbage-collected without close() since start. */
    public static long leakedCount() {
        return LEAKED.get();
    }

    static Tracker track(Object tensor) {
        if (!ENABLED) return NONE;
        Tracker tracker = new Tracker();
        tracker.cleanable = CLEANER.register(tensor, tracker);
        return tracker;
    }

    /** Runs when the tensor is closed (clean) or collected (leak). */
    static final class Tracker implements Runnable {
        private volatile boolean closed;
        private Cleaner.Cleanable cleanable;

        void closed() {
            if (this == NONE) return; // reporting is off: keep the close path free of volatile writes
            closed = true;
            if (cleanable != null) cleanable.clean();
        }

        @Override
        public void run() {
            if (closed) return;
            if (LEAKED.getAndIncrement() == 0) {
                System.err.println("dit4j: a Tensor was garbage-collected without close(); its native memory is never "
                        + "freed. Close tensors or create them inside a TensorScope (Leaks.leakedCount() counts these).");
            }
        }
    }
}
