package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** CudaGraph's checks on a machine without CUDA graphs; capture and replay run on a GPU (CudaGraphSamplingTest). */
class CudaGraphTest extends TestSupport {
    @Test
    void cudaGraphsNeedACudaDeviceAndAShimBuiltForThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaGraph.capture(Device.CPU, 1, java.util.List.of(), () -> Tensor.zeros(new long[] {1}, DType.FLOAT32, Device.CPU)));
        assertTrue(e.getMessage().contains("CUDA graphs capture CUDA work"), e.getMessage());
        if (!Torch.cudaAvailable()) assertFalse(CudaGraph.supported(), "a shim built against a CPU libtorch has no CUDA graphs");
    }
}
