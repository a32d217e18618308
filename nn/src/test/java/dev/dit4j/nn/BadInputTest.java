package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.bindings.TorchException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** User mistakes give clear Java exceptions that name the problem; none reaches the JVM as a crash. */
class BadInputTest extends TestSupport {
    private static String fails(Executable call, String... words) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        String msg = e.getMessage();
        assertNotNull(msg);
        for (String w : words) assertTrue(msg.toLowerCase().contains(w.toLowerCase()), "message should mention '" + w + "': " + msg);
        return msg;
    }

    @Test
    void mismatchedShapes() {
        Tensor a = Tensor.zeros(2, 3);
        Tensor b = Tensor.zeros(4, 5);
        fails(() -> a.add(b), "size");
        fails(() -> a.matmul(b), "2x3", "4x5");
        fails(() -> a.reshape(4, 4), "shape", "[4, 4]");
        fails(() -> a.view(5), "shape");
        fails(() -> Tensor.cat(List.of(a, b), 0), "size");
        fails(() -> Functional.layerNorm(a, new long[] {5}, null, null, 1e-5), "normalized_shape");
        fails(() -> Functional.conv2d(Tensor.zeros(1, 3, 4, 4), Tensor.zeros(2, 5, 3, 3), null, 1, 0, 1), "channels");
        fails(() -> Functional.scaledDotProductAttention(Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 3, 5), Tensor.zeros(1, 2, 3, 4)), "");
        fails(() -> Tensor.of(new float[5], 2, 3), "5 elements", "[2, 3]");
    }

    @Test
    void wrongDtypes() {
        fails(() -> Functional.embedding(Tensor.zeros(3, 2), Tensor.zeros(2)), "Long", "Int");
        fails(() -> Functional.crossEntropy(Tensor.zeros(2, 3), Tensor.zeros(2), Reduction.MEAN, 0), "");
        fails(() -> Tensor.zeros(2).mm(Tensor.zeros(new long[] {2}, DType.INT64, Device.CPU)), "");
        fails(() -> Tensor.zeros(2, 2).matmul(Tensor.zeros(new long[] {2, 2}, DType.FLOAT64, Device.CPU)), "dtype");
    }

    @Test
    void unavailableDevice() {
        if (Torch.cudaAvailable()) return; // only meaningful where CUDA is absent
        String msg = fails(() -> Tensor.zeros(new long[] {2}, DType.FLOAT32, Device.cuda(0)), "CUDA");
        assertFalse(msg.contains("\n  frame #"), "messages leave out the C++ backtrace");
        fails(() -> Device.parse("gpu"), "gpu");
        fails(() -> Device.cuda(-1), "index");
    }

    @Test
    void badIndices() {
        Tensor x = Tensor.zeros(3, 4);
        TorchException e = assertThrows(TorchException.class, () -> x.select(0, 7));
        assertEquals(TorchException.Kind.INDEX, e.kind());
        assertTrue(e.getMessage().contains("7"), e.getMessage());
        fails(() -> x.indexSelect(0, Tensor.of(new long[] {5}, 1)), "index");
        fails(() -> x.sum(5, false), "dim");
        fails(() -> x.transpose(0, 3), "dim");
        fails(() -> x.size(2), "dim 2");
        fails(() -> Functional.embedding(x, Tensor.of(new long[] {9}, 1)), "index");
        fails(() -> Tensor.zeros(new long[] {-1}, DType.FLOAT32, Device.CPU), "negative");
    }

    @Test
    void useAfterClose() {
        Tensor t = Tensor.ones(2);
        t.close();
        t.close(); // idempotent
        fails(t::sum, "after close");
        fails(() -> Tensor.ones(2).add(t), "after close");
        fails(t::shape, "after close");
        Generator g = Generator.cpu(1);
        g.close();
        fails(() -> Tensor.randn(new long[] {2}, DType.FLOAT32, Device.CPU, g), "generator", "close");
    }

    @Test
    void closedAndMisorderedScopes() {
        TensorScope outer = TensorScope.open();
        Tensor t = Tensor.ones(2);
        TensorScope inner = TensorScope.open();
        fails(outer::close, "innermost");
        inner.close();
        outer.close();
        fails(() -> outer.keep(t), "closed");
        fails(t::sum, "after close");
        TensorScope other = TensorScope.open();
        Tensor mine = Tensor.ones(1);
        other.close();
        assertTrue(mine.isClosed());
    }

    @Test
    void invalidArguments() {
        fails(() -> Functional.dropout(Tensor.ones(2), 1.5, true), "probability");
        fails(() -> Functional.conv2d(Tensor.zeros(1, 1, 3, 3), Tensor.zeros(1, 1, 1, 1), null, new long[] {1}, new long[] {0, 0},
                new long[] {1, 1}, 1), "stride");
        fails(() -> Tensor.ones(4).chunk(0, 0), "chunk");
        fails(() -> Tensor.ones(2, 2).item(), "4 elements");
    }
}
