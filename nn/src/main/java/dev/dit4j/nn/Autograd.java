package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Gradient mode and functional gradients. */
public final class Autograd {
    private Autograd() {}

    /** Disables gradient recording on this thread until the returned mode is closed. */
    public static GradMode noGrad() {
        return new GradMode(LibTorch.setGradEnabled(0) == 1);
    }

    /** Enables gradient recording on this thread until closed (e.g. inside a noGrad block). */
    public static GradMode enableGrad() {
        return new GradMode(LibTorch.setGradEnabled(1) == 1);
    }

    public static boolean isGradEnabled() {
        return LibTorch.isGradEnabled() == 1;
    }

    /** Restores the previous grad mode when closed. */
    public static final class GradMode implements AutoCloseable {
        private final boolean previous;
        private boolean closed;

        private GradMode(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            LibTorch.setGradEnabled(previous ? 1 : 0);
        }
    }

    /**
     * Gradients of outputs with respect to inputs (torch.autograd.grad). gradOutputs may be null
     * for scalar outputs. The result has one entry per input, null where it is unused.
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    boolean retainGraph, boolean createGraph) {
        MemorySegment[] result = Tensor.callLists(Tensor.Use.DIRECT, Arrays.asList(outputs, inputs, gradOutputs),
                h -> LibTorch.autogradGrad(h[0], h[1], h[2], retainGraph, createGraph));
        List<Tensor> grads = new ArrayList<>(result.length);
        for (MemorySegment h : result) grads.add(h == null ? null : Tensor.wrap(h));
        return grads;
    }
}
