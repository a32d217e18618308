package dev.dit4j.nn;

import dev.dit4j.bindings.LibTorch;
import java.lang.foreign.MemorySegment;

/**
 * The tensor side of c10d collectives, for {@link dev.dit4j.nn.dist.ProcessGroup}: each call pins
 * its tensors for the call, starts the collective on the group handle and returns the native work
 * handle (libtorch keeps the tensors alive until the work is done).
 */
public final class Collectives {
    private Collectives() {}

    public static MemorySegment allReduce(MemorySegment group, Tensor t, int op) {
        return Tensor.call(Tensor.Use.DIRECT, t, h -> LibTorch.allReduce(group, h, op));
    }

    public static MemorySegment broadcast(MemorySegment group, Tensor t, int root) {
        return Tensor.call(Tensor.Use.DIRECT, t, h -> LibTorch.broadcast(group, h, root));
    }

    public static MemorySegment allGather(MemorySegment group, Tensor out, Tensor in) {
        return Tensor.call(Tensor.Use.DIRECT, out, in, (o, i) -> LibTorch.allGather(group, o, i));
    }

    public static MemorySegment reduceScatter(MemorySegment group, Tensor out, Tensor in, int op) {
        return Tensor.call(Tensor.Use.DIRECT, out, in, (o, i) -> LibTorch.reduceScatter(group, o, i, op));
    }
}
