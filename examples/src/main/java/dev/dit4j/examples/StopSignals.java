package dev.dit4j.examples;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/**
 * Preemption for the training commands: the first SIGTERM or SIGINT asks the run to stop at the
 * next step boundary ({@link dev.dit4j.models.train.TrainingLoop.Builder#stopWhen}), write its
 * checkpoint as at a normal end and exit 143 (SIGTERM) or 130 (SIGINT), so that {@code --resume}
 * continues it; a second signal stops the process at once. The JVM's own handling (run the
 * shutdown hooks and exit, whatever the main thread is doing inside libtorch) is replaced while
 * a training command runs.
 *
 * <p>A second signal within a second of the first counts as the same one: Ctrl-C reaches a
 * launcher and its workers together, and the launcher forwards it too.
 *
 * <p>Every other command ({@link #installImmediate}) stops at once on the first signal, with
 * {@code _exit}: the JVM's own exit would run libtorch's static destructors while the main
 * thread may still be inside libtorch, which can crash the process on its way out. Outputs are
 * written atomically, so a stopped command leaves no partial file behind.
 */
final class StopSignals {
    private static final AtomicReference<String> RECEIVED = new AtomicReference<>();
    private static final List<Runnable> ON_FIRST = new CopyOnWriteArrayList<>();
    private static final List<Runnable> ON_SECOND = new CopyOnWriteArrayList<>();
    private static volatile long firstAt;
    private static boolean installed;
    /** Whether a training command asked for a graceful stop; otherwise the first signal stops at once. */
    private static volatile boolean graceful;

    private StopSignals() {}

    /** Handles SIGTERM and SIGINT from now on (idempotent); where a signal cannot be handled (-Xrs), it keeps the JVM's handling. */
    static synchronized void install() {
        graceful = true;
        installImmediate();
    }

    /** Handles SIGTERM and SIGINT by stopping at once (any command; a training command's {@link #install} makes it graceful). */
    static synchronized void installImmediate() {
        if (installed) return;
        installed = true;
        for (String name : List.of("TERM", "INT")) {
            try {
                Signal.handle(new Signal(name), s -> received(s.getName()));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // this platform or JVM (-Xrs) keeps the signal: it ends the process as before
            }
        }
    }

    /** Runs {@code action} on the first signal (the launcher forwards it to its workers). */
    static void onFirst(Runnable action) {
        ON_FIRST.add(action);
    }

    /** Runs {@code action} on a second signal, before the process halts (the launcher kills its workers). */
    static void onSecond(Runnable action) {
        ON_SECOND.add(action);
    }

    static void received(String name) {
        if (!graceful) {
            System.err.println("dit4j: SIG" + name + ": stopping");
            System.err.flush();
            exitNow(code(name));
            return;
        }
        if (RECEIVED.compareAndSet(null, name)) {
            firstAt = System.nanoTime();
            System.err.println("dit4j: SIG" + name + ": finishing this step and writing the checkpoint (send it again to stop at once)");
            System.err.flush();
            ON_FIRST.forEach(Runnable::run);
        } else if (System.nanoTime() - firstAt > 1_000_000_000L) {
            System.err.println("dit4j: SIG" + name + " again: stopping at once");
            System.err.flush();
            ON_SECOND.forEach(Runnable::run);
            exitNow(code(name));
        }
    }

    /** Ends the process now: libc's _exit (no atexit handlers, no static destructors under a running libtorch call), else halt. */
    static void exitNow(int code) {
        System.out.flush();
        System.err.flush();
        try {
            java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
            var exit = linker.defaultLookup().find("_exit");
            if (exit.isPresent()) {
                linker.downcallHandle(exit.get(), java.lang.foreign.FunctionDescriptor.ofVoid(java.lang.foreign.ValueLayout.JAVA_INT)).invoke(code);
            }
        } catch (Throwable e) {
            // no _exit here: halt below
        }
        Runtime.getRuntime().halt(code);
    }

    /** Whether a stop was asked for. */
    static boolean requested() {
        return RECEIVED.get() != null;
    }

    /** {@code normal}, or 143 / 130 once a SIGTERM / SIGINT was received. */
    static int exitCode(int normal) {
        String name = RECEIVED.get();
        return name == null ? normal : code(name);
    }

    static int code(String name) {
        return name.equals("INT") ? 130 : 143;
    }

    /** The line a stopped run prints: where it stopped and how to continue. */
    static void report(String command, long step, Path checkpoint) {
        String name = RECEIVED.get();
        System.err.println("dit4j " + command + ": stopped by SIG" + (name == null ? "TERM" : name) + " after step " + step
                + (checkpoint != null ? "; checkpoint " + checkpoint + ": continue with --resume " + checkpoint : ""));
        System.err.flush();
    }

    /** For tests: forget a received signal. */
    static void reset() {
        RECEIVED.set(null);
    }
}
