package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.bindings.TorchException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShapeReductionTest extends TestSupport {
    private static Tensor iota(long... shape) {
        return Tensor.arange(0, Shapes.numel(shape), 1, DType.FLOAT64, Device.CPU).reshape(shape);
    }

    @Test
    void reductionsOverAllAndSomeDims() {
        Tensor x = iota(2, 3); // [[0,1,2],[3,4,5]]
        assertEquals(15, x.sum().item());
        assertEquals(2.5, x.mean().item());
        assertClose(new double[] {3, 5, 7}, x.sum(0, false), 0);
        assertClose(new double[] {1, 4}, x.mean(1, false), 0);
        assertArrayEquals(new long[] {2, 1}, x.mean(1, true).shape());
        assertClose(new double[] {1, 1}, x.var(new long[] {1}, 1, false), 1e-12);
        assertClose(new double[] {2.0 / 3, 2.0 / 3}, x.var(new long[] {1}, 0, false), 1e-12);
        assertEquals(5, x.max().item());
        assertEquals(0, x.min().item());
        try (Tensor.ValuesIndices m = x.max(1, false)) {
            assertClose(new double[] {2, 5}, m.values(), 0);
            assertArrayEquals(new long[] {2, 2}, m.indices().toLongArray());
        }
        try (Tensor.ValuesIndices m = x.neg().min(0, true)) {
            assertClose(new double[] {-3, -4, -5}, m.values(), 0);
        }
        assertArrayEquals(new long[] {1, 1, 1}, x.argmax(0, false).toLongArray());
        assertEquals(Math.sqrt(55), x.norm(2, null, false).item(), 1e-12);
        assertClose(new double[] {0, 1, 3, 3, 7, 12}, x.cumsum(1).flatten(), 0);
        assertClose(new double[] {1, 2, 6}, x.add(1).select(0, 0).cumprod(0), 0);
        assertTrue(x.allclose(x.add(1e-9), 0, 1e-8));
        assertFalse(x.allclose(x.add(1e-3), 0, 1e-8));
    }

    @Test
    void topkAndArgsort() {
        Tensor x = Tensor.of(new double[] {0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.4}, 2, 4);
        try (Tensor.ValuesIndices top = x.topk(2, 1)) {
            assertClose(new double[] {0.9, 0.5, 0.8, 0.7}, top.values().flatten(), 0);
            assertArrayEquals(new long[] {1, 3, 2, 0}, top.indices().flatten().toLongArray());
        }
        assertArrayEquals(new long[] {2, 0, 3, 1, 1, 3, 0, 2}, x.argsort(1).flatten().toLongArray());
        assertThrows(TorchException.class, () -> x.topk(5, 1));
    }

    @Test
    void viewsAndReshapes() {
        Tensor x = iota(2, 3, 4);
        assertArrayEquals(new long[] {6, 4}, x.reshape(6, 4).shape());
        assertArrayEquals(new long[] {4, 6}, x.view(4, -1).shape());
        Tensor p = x.permute(2, 0, 1);
        assertArrayEquals(new long[] {4, 2, 3}, p.shape());
        assertFalse(p.isContiguous());
        assertTrue(p.contiguous().isContiguous());
        assertEquals(13, p.select(0, 1).select(0, 1).select(0, 0).item()); // x[1,0,1]
        assertArrayEquals(new long[] {3, 2, 4}, x.transpose(0, 1).shape());
        assertArrayEquals(new long[] {2, 12}, x.flatten(1, 2).shape());
        assertArrayEquals(new long[] {24}, x.flatten().shape());
        assertArrayEquals(new long[] {2, 1, 3, 4}, x.unsqueeze(1).shape());
        assertArrayEquals(new long[] {2, 3, 4}, x.unsqueeze(1).squeeze(1).shape());
        assertArrayEquals(new long[] {3}, iota(1, 3, 1).squeeze().shape());
        assertArrayEquals(new long[] {5, 3}, iota(1, 3).expand(5, 3).shape());
        assertArrayEquals(new long[] {2, 6}, iota(1, 3).repeat(2, 2).shape());
        assertClose(new double[] {2, 1, 0}, iota(3).flip(0), 0);
        assertClose(new double[] {4, 5, 6, 7, 16, 17, 18, 19}, x.narrow(1, 1, 1).flatten(), 0);
        assertClose(new double[] {1, 3}, x.select(0, 0).select(0, 0).slice(0, 1, 4, 2), 0);
        assertClose(new double[] {0, 0, 0, 3, 4, 0, 6, 7, 8}, iota(3, 3).tril(0).flatten(), 0);
    }

    @Test
    void viewsShareMemoryWithTheirBase() {
        Tensor x = iota(2, 3);
        Tensor row = x.select(0, 1);
        row.fill_(-1);
        assertClose(new double[] {0, 1, 2, -1, -1, -1}, x.flatten(), 0);
    }

    @Test
    void concatenationAndSplitting() {
        Tensor a = iota(2, 2);
        Tensor b = iota(1, 2).add(10);
        assertClose(new double[] {0, 1, 2, 3, 10, 11}, Tensor.cat(List.of(a, b), 0).flatten(), 0);
        assertArrayEquals(new long[] {2, 2, 2}, Tensor.stack(List.of(a, a), 0).shape());
        List<Tensor> chunks = iota(7).chunk(3, 0);
        assertEquals(3, chunks.size());
        assertArrayEquals(new long[] {3}, chunks.get(0).shape());
        assertArrayEquals(new long[] {1}, chunks.get(2).shape());
        List<Tensor> pieces = iota(7).split(2, 0);
        assertEquals(4, pieces.size());
        assertClose(new double[] {6}, pieces.get(3), 0);
        List<Tensor> many = iota(100).split(1, 0); // more pieces than the first native buffer
        assertEquals(100, many.size());
        assertEquals(99, many.get(99).item());
    }

    @Test
    void indexingOps() {
        Tensor x = iota(3, 4);
        Tensor idx = Tensor.of(new long[] {2, 0}, 2);
        assertClose(new double[] {8, 9, 10, 11, 0, 1, 2, 3}, x.indexSelect(0, idx).flatten(), 0);
        Tensor g = Tensor.of(new long[] {3, 0, 1, 1, 2, 2}, 3, 2);
        assertClose(new double[] {3, 0, 5, 5, 10, 10}, x.gather(1, g).flatten(), 0);
        Tensor base = Tensor.zeros(new long[] {2, 3}, DType.FLOAT64, Device.CPU);
        Tensor sidx = Tensor.of(new long[] {2, 0}, 2, 1);
        Tensor src = f64(new double[] {5, 7}, 2, 1);
        assertClose(new double[] {0, 0, 5, 7, 0, 0}, base.scatter(1, sidx, src).flatten(), 0);
        Tensor addIdx = Tensor.of(new long[] {0, 0, 1}, 1, 3);
        assertClose(new double[] {3, 3, 0}, Tensor.zeros(new long[] {1, 3}, DType.FLOAT64, Device.CPU)
                .scatterAdd(1, addIdx, f64(new double[] {1, 2, 3}, 1, 3)).flatten(), 0);
        assertArrayEquals(new long[] {0, 0, 1, 1, 0, 0}, Tensor.of(new long[] {2, 0}, 2).oneHot(3).flatten().toLongArray());
    }

    @Test
    void matrixProducts() {
        Tensor a = iota(2, 3);
        Tensor b = iota(3, 2);
        double[] expected = {10, 13, 28, 40};
        assertClose(expected, a.matmul(b).flatten(), 0);
        assertClose(expected, a.mm(b).flatten(), 0);
        assertClose(expected, a.unsqueeze(0).bmm(b.unsqueeze(0)).flatten(), 0);
        Tensor bias = f64(new double[] {1, -1}, 2);
        assertClose(new double[] {11, 12, 29, 39}, Functional.linear(a, b.transpose(0, 1), bias).flatten(), 0);
        assertClose(new double[] {21, 25, 57, 79}, Functional.addmm(bias.expand(2, 2).contiguous(), a, b, 1, 2).flatten(), 0);
        // batched broadcasting matmul
        assertArrayEquals(new long[] {4, 2, 2}, iota(4, 2, 3).matmul(b).shape());
    }
}
