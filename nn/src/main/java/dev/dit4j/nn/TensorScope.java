package dev.dit4j.nn;

import java.util.ArrayList;
import java.util.List;

/**
 * Owns every tensor created on this thread while it is the innermost open scope, and closes
 * them when it closes, except those passed to {@link #keep}. Scopes nest and close innermost
 * first; a training step typically runs inside one so that its temporaries are freed at once.
 * A scope belongs to the thread that opened it; its tensors may still be used, and closed, on
 * other threads (closing one there leaves the scope's list alone; the scope's own close of it
 * is then a no-op).
 */
public final class TensorScope implements AutoCloseable {
    private static final ThreadLocal<TensorScope> CURRENT = new ThreadLocal<>();

    private final TensorScope parent;
    private final Thread thread = Thread.currentThread();
    private final List<Tensor> owned = new ArrayList<>();
    private boolean closed;

    private TensorScope(TensorScope parent) {
        this.parent = parent;
    }

    public static TensorScope open() {
        TensorScope scope = new TensorScope(CURRENT.get());
        CURRENT.set(scope);
        return scope;
    }

    /** The innermost open scope of this thread, or null. */
    static TensorScope current() {
        return CURRENT.get();
    }

    void adopt(Tensor t) {
        owned.add(t);
        t.owner = this;
    }

    /** Moves t out of this scope into the enclosing one (or to the caller, if none) and returns it. */
    public <T extends Tensor> T keep(T t) {
        checkOpen();
        if (t.owner != this) throw new IllegalArgumentException("tensor is not owned by this scope");
        int i = owned.lastIndexOf(t);
        if (i >= 0) owned.remove(i);
        t.owner = null;
        if (parent != null) parent.adopt(t);
        return t;
    }

    /** Detaches t from any scope: the caller now closes it. Only on the thread of t's scope. */
    public static <T extends Tensor> T release(T t) {
        TensorScope s = t.owner;
        if (s != null && s.thread != Thread.currentThread()) {
            throw new IllegalStateException("a tensor can be released only on the thread of the TensorScope that owns it");
        }
        unlist(t);
        return t;
    }

    /**
     * Before t closes: takes it off its scope's list. Another thread's scope is left alone (its
     * list is not thread-safe); when that scope closes, closing t again does nothing.
     */
    static void closing(Tensor t) {
        TensorScope s = t.owner;
        if (s != null && s.thread == Thread.currentThread()) unlist(t);
    }

    private static void unlist(Tensor t) {
        TensorScope s = t.owner;
        if (s == null) return;
        int i = s.owned.lastIndexOf(t);
        if (i >= 0) s.owned.remove(i);
        t.owner = null;
    }

    public boolean isClosed() {
        return closed;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this TensorScope is already closed");
        if (Thread.currentThread() != thread) throw new IllegalStateException("a TensorScope belongs to the thread that opened it");
    }

    @Override
    public void close() {
        if (closed) return;
        checkOpen();
        if (CURRENT.get() != this) {
            throw new IllegalStateException("TensorScopes must be closed innermost first: an inner scope is still open");
        }
        closed = true;
        CURRENT.set(parent);
        for (int i = owned.size() - 1; i >= 0; i--) owned.get(i).closeOwned();
        owned.clear();
    }
}
