package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Torch#cacheCpuMemory}: freed large blocks are kept and reused, the limit holds, small
 * blocks pass through, and a reused block gives correct tensors. (Its effect on speed, page
 * faults per image, is measured in bench's VaeThroughput, not asserted here.)
 */
class CpuCacheTest extends TestSupport {
    private static final long MIB = 1 << 20;
    /** [1, 128, 256, 256] float32: 32 MiB, a block malloc would map afresh for each tensor. */
    private static final long[] BIG = {1, 128, 256, 256};

    @AfterEach
    void keepNothing() {
        Torch.cacheCpuMemory(0);
    }

    @Test
    void aFreedBlockServesTheNextTensorOfItsSize() {
        Torch.cacheCpuMemory(256 * MIB);
        try (Tensor t = Tensor.full(3, BIG, DType.FLOAT32, Device.CPU)) {
            assertEquals(3.0 * 128 * 256 * 256, t.sum().item());
        }
        Torch.CpuCacheStats afterFree = Torch.cpuCacheStats();
        assertTrue(afterFree.keptBytes() >= 32 * MIB, "the 32 MiB block is kept: " + afterFree);
        try (Tensor t = Tensor.zeros(BIG, DType.FLOAT32, Device.CPU)) {
            Torch.CpuCacheStats reused = Torch.cpuCacheStats();
            assertEquals(afterFree.hits() + 1, reused.hits(), "served from the kept block");
            assertEquals(afterFree.keptBytes() - 32 * MIB, reused.keptBytes());
            assertEquals(0.0, t.abs().sum().item(), "zeros are zeros in a reused block");
            t.add_(1);
            assertEquals(128.0 * 256 * 256, t.sum().item());
        }
    }

    @Test
    void ofKeptBlocksOfOneSizeTheLastFreedIsReusedFirst() {
        Torch.cacheCpuMemory(256 * MIB);
        long first, second;
        try (Tensor a = Tensor.zeros(BIG, DType.FLOAT32, Device.CPU); Tensor b = Tensor.zeros(BIG, DType.FLOAT32, Device.CPU)) {
            first = a.asSegment().address();
            second = b.asSegment().address();
            a.close(); // a is freed before b
        }
        try (Tensor c = Tensor.zeros(BIG, DType.FLOAT32, Device.CPU)) {
            assertEquals(second, c.asSegment().address(), "b's block, the one freed last, still warm in the CPU's caches");
            assertNotEquals(first, second);
        }
    }

    @Test
    void keptBytesStayUnderTheLimitAndZeroFreesThem() {
        Torch.cacheCpuMemory(40 * MIB);
        try (Tensor a = Tensor.ones(BIG, DType.FLOAT32, Device.CPU); Tensor b = Tensor.ones(BIG, DType.FLOAT32, Device.CPU)) {
            assertEquals(2.0 * 128 * 256 * 256, a.sum().item() + b.sum().item());
        }
        Torch.CpuCacheStats s = Torch.cpuCacheStats();
        assertEquals(40 * MIB, s.limit());
        assertEquals(1, s.keptBlocks(), "the second 32 MiB block would pass 40 MiB: the older one is evicted");
        assertTrue(s.keptBytes() <= 40 * MIB, s.toString());

        Torch.cacheCpuMemory(0);
        assertEquals(0, Torch.cpuCacheStats().keptBytes());
        try (Tensor t = Tensor.ones(BIG, DType.FLOAT32, Device.CPU)) {
            assertEquals(128.0 * 256 * 256, t.sum().item());
        }
        assertEquals(0, Torch.cpuCacheStats().keptBlocks(), "with no limit nothing is kept");
    }

    @Test
    void convolutionsWorkWithTheCache() {
        // oneDNN's convolutions allocate scratch memory through Allocator::raw_allocate/raw_deallocate
        Torch.cacheCpuMemory(256 * MIB);
        Tensor x = seeded(1, 1, 32, 128, 128), w = seeded(2, 32, 32, 3, 3);
        for (int i = 0; i < 2; i++) {
            Tensor y = Functional.conv2d(x.to(DType.FLOAT32), w.to(DType.FLOAT32), null, 1, 1, 1);
            assertClose(Functional.conv2d(x, w, null, 1, 1, 1), y.to(DType.FLOAT64), 1e-3);
        }
    }

    @Test
    void smallTensorsAreNotKept() {
        Torch.cacheCpuMemory(256 * MIB);
        long kept = Torch.cpuCacheStats().keptBlocks();
        try (Tensor t = Tensor.ones(new long[] {1000}, DType.FLOAT32, Device.CPU)) {
            assertEquals(1000.0, t.sum().item());
        }
        assertEquals(kept, Torch.cpuCacheStats().keptBlocks());
    }

    @Test
    void aNegativeLimitIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Torch.cacheCpuMemory(-1));
    }
}
