package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.bindings.TorchException;

import org.junit.jupiter.api.Test;

/**
 * libtorch's profiler through the shim, on the CPU: it sees the ops that ran (as host events)
 * and no device work; the CUDA counts are read on a GPU by bench/gpu-harness.sh.
 */
class DeviceProfileTest extends TestSupport {
    @Test
    void countsTheOpsThatRanAndNoDeviceWorkOnTheCpu() {
        Tensor a = seeded(1, 8, 8);
        DeviceProfile.Summary few, many;
        try (DeviceProfile p = DeviceProfile.start(Device.CPU)) {
            a.matmul(a);
            few = p.stop();
        }
        try (DeviceProfile p = DeviceProfile.start(Device.CPU)) {
            for (int i = 0; i < 10; i++) a.matmul(a).add(a).relu();
            many = p.stop();
        }
        assertTrue(few.hostEvents() >= 1, "one matmul is at least one event: " + few);
        assertTrue(many.hostEvents() >= 30, "thirty ops are at least thirty events: " + many);
        assertTrue(many.hostEvents() > few.hostEvents());
        assertTrue(few.atenOps() >= 1 && few.atenOps() <= few.hostEvents(), "matmul is an ATen operator: " + few);
        try (DeviceProfile p = DeviceProfile.start(Device.CPU)) {
            a.matmul(a).add(a).relu();
            DeviceProfile.Summary once = p.stop();
            assertEquals(10 * once.atenOps(), many.atenOps(), "ten times the operators of once: " + once + " " + many);
            assertEquals(30, many.topLevelAtenOps(), "matmul, add and relu, ten times: " + many);
            assertTrue(many.atenOps() > many.topLevelAtenOps(), "matmul calls mm: " + many);
        }
        assertEquals(0, many.kernels());
        assertEquals(0, many.copies());
        assertEquals(0, many.deviceNanos());
        assertEquals("", many.topKernels(), "no device kernels to list");
    }

    @Test
    void aConversionToWhatATensorAlreadyIsRunsNoOperator() {
        Tensor a = seeded(1, 4, 4);
        DeviceProfile.Summary s;
        Tensor same, converted;
        try (DeviceProfile p = DeviceProfile.start(Device.CPU)) {
            same = a.to(Device.CPU, DType.FLOAT64);
            converted = a.to(DType.FLOAT32);
            s = p.stop();
        }
        assertEquals(1, s.topLevelAtenOps(), "only the float32 conversion dispatches: " + s);
        assertEquals(DType.FLOAT32, converted.dtype());
        same.fill_(2);
        assertEquals(2f, a.toFloatArray()[0], "the unchanged conversion shares the tensor, as PyTorch's to() returns self");
    }

    @Test
    void oneProfileAtATimeAndStopOnlyOnce() {
        try (DeviceProfile p = DeviceProfile.start(Device.CPU)) {
            TorchException e = assertThrows(TorchException.class, () -> DeviceProfile.start(Device.CPU));
            assertTrue(e.getMessage().contains("already running"), e.getMessage());
            p.stop();
            assertThrows(IllegalStateException.class, p::stop);
        }
        DeviceProfile.start(Device.CPU).close(); // the failed start left nothing running
    }
}
