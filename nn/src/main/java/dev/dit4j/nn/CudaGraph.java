package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.function.Supplier;

/**
 * A CUDA graph: the kernels of a block of tensor work, captured once and then replayed with a
 * single launch, without the host work of issuing each op (torch.cuda.CUDAGraph). What it pays
 * for is small batches, where that host work, not the GPU, sets the pace.
 *
 * <pre>{@code
 * Tensor x = ...;                                  // static input: refill it before each replay
 * try (CudaGraph g = CudaGraph.capture(device, 2, List.of(), () -> model.forward(x, t, y))) {
 *     for (...) { x.copy_(next); g.replay(); use(g.output()); }
 * }
 * }</pre>
 * The body runs {@code warmups} times eagerly on the capture's side stream (creating library
 * handles and workspaces outside the capture), then once under capture; its result of that run
 * is {@link #output()}, which every replay rewrites in place. Inputs are read from the tensors
 * the body captured, by address: refill them with {@code copy_}, never rebind them. The body
 * must not synchronise with the host (no {@code item()}, no CPU copies). Random ops stay random
 * across replays: the device's default generator is handled by libtorch, and explicit
 * generators the body uses must be listed in {@code generators}.
 */
public final class CudaGraph implements AutoCloseable {
    private MemorySegment handle;
    private final Tensor output;

    private CudaGraph(MemorySegment handle, Tensor output) {
        this.handle = handle;
        this.output = output;
    }

    /** Whether the loaded shim can capture CUDA graphs (built against a CUDA libtorch with the CUDA toolkit). */
    public static boolean supported() {
        return LibTorch.cudaGraphsSupported() == 1;
    }

    /** Captures {@code body} on {@code device} after {@code warmups} eager runs; see the class comment. */
    public static CudaGraph capture(Device device, int warmups, List<Generator> generators, Supplier<Tensor> body) {
        if (!device.isCuda()) throw new IllegalArgumentException("CUDA graphs capture CUDA work, not work on " + device);
        if (warmups < 1) throw new IllegalArgumentException("at least one warm-up run is needed before a capture, got " + warmups);
        MemorySegment h = LibTorch.cudaGraphNew(device.index());
        try {
            for (Generator g : generators) Generator.with(g, gh -> LibTorch.cudaGraphRegisterGenerator(h, gh)); // pinned while registered; the caller keeps it open
            for (int i = 0; i < warmups; i++) {
                try (TensorScope s = TensorScope.open()) {
                    body.get();
                }
            }
            LibTorch.cudaGraphCaptureBegin(h);
            Tensor out;
            try (TensorScope s = TensorScope.open()) {
                out = TensorScope.release(body.get());
            }
            try {
                LibTorch.cudaGraphCaptureEnd(h);
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return new CudaGraph(h, out);
        } catch (RuntimeException | Error e) {
            LibTorch.cudaGraphFree(h);
            throw e;
        }
    }

    /** Runs the captured kernels again, on the current stream, after the work already queued there. */
    public void replay() {
        if (handle == null) throw new IllegalStateException("CUDA graph used after close()");
        LibTorch.cudaGraphReplay(handle);
    }

    /** The body's result, rewritten by each replay; owned by this graph. */
    public Tensor output() {
        if (handle == null) throw new IllegalStateException("CUDA graph used after close()");
        return output;
    }

    @Override
    public void close() {
        if (handle != null) {
            output.close();
            LibTorch.cudaGraphFree(handle);
            handle = null;
        }
    }
}
