package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dit4j.bindings.GlibcMalloc;
import org.junit.jupiter.api.Test;

/**
 * {@link Torch#retainFreedCpuMemory}: glibc takes the settings, and tensors work as before after
 * them. (Its effect, page faults per image, is measured in bench's VaeThroughput: it depends on
 * the allocation pattern, so it is not asserted here.)
 */
class CpuMemoryTest extends TestSupport {
    @Test
    void glibcAcceptsTheSettingsAndTensorsStillWork() {
        assumeTrue(GlibcMalloc.isAvailable(), "needs glibc's mallopt");
        assertTrue(Torch.retainFreedCpuMemory(256L << 20));
        for (int i = 0; i < 3; i++) {
            try (Tensor t = Tensor.zeros(new long[] {1, 128, 256, 256}, DType.FLOAT32, Device.CPU)) { // 32 MiB
                assertEquals(0, t.add_(1).sum().item() - 128L * 256 * 256);
            }
        }
    }

    @Test
    void aNegativeSizeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Torch.retainFreedCpuMemory(-1));
    }
}
