package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A CUDA device libtorch cannot use is refused when it is made, saying why and what to do. */
class DeviceTest {
    @Test
    @Timeout(30)
    void aCudaDeviceOnACpuBuildOfLibtorchSaysWhatToInstall() {
        if (Torch.cudaAvailable()) return; // the CPU-build message needs a CPU-only libtorch
        for (var attempt : new org.junit.jupiter.api.function.Executable[] {
                () -> Device.cuda(0), () -> Device.parse("cuda"), () -> Tensor.zeros(new long[] {2}, DType.FLOAT32, Device.parse("cuda:1"))}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, attempt);
            assertTrue(e.getMessage().contains("CUDA is not available in this libtorch") && e.getMessage().contains("CPU build")
                    && e.getMessage().contains("LIBTORCH") && e.getMessage().contains("How libtorch is found"), e.getMessage());
            assertFalse(e.getMessage().contains("Could not run"), "not libtorch's dispatcher dump: " + e.getMessage());
        }
    }

    @Test
    @Timeout(30)
    void aCudaDeviceBeyondTheOnesPresentIsNamed() {
        if (!Torch.cudaAvailable()) return; // needs a GPU
        int count = Torch.cudaDeviceCount();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Device.cuda(count));
        assertTrue(e.getMessage().contains("cuda:" + count) && e.getMessage().contains(count + " CUDA device"), e.getMessage());
        assertEquals("cuda:0", Device.cuda(0).toString());
    }

    @Test
    @Timeout(30)
    void theCpuAndBadNamesAreUnchanged() {
        assertEquals(Device.CPU, Device.parse(" CPU "));
        assertThrows(IllegalArgumentException.class, () -> Device.parse("gpu"));
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
    }
}
