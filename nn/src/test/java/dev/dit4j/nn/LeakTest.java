package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Many ops inside scopes leave neither live tensors nor resident-memory growth behind. */
class LeakTest {
    private static long residentKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D+", ""));
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static void work(int iterations) {
        for (int i = 0; i < iterations; i++) {
            try (TensorScope s = TensorScope.open()) {
                Tensor a = Tensor.randn(64, 64).requiresGrad(true);
                Tensor b = a.matmul(a).tanh().add(1).mul(a);
                Tensor loss = Functional.layerNorm(b, new long[] {64}, null, null, 1e-5).sum();
                loss.backward();
                a.grad().mean().item();
                a.chunk(4, 0);
            }
        }
    }

    @Test
    void tenThousandOpsReturnToBaseline() throws IOException {
        assumeLinux();
        work(200); // warm up allocators and the JIT
        System.gc();
        long live = Torch.liveTensors();
        long rssBefore = residentKiB();
        work(1250); // 1,250 iterations x 8+ ops = over 10,000 ops
        System.gc();
        long rssAfter = residentKiB();
        assertEquals(live, Torch.liveTensors(), "live tensor count must return to its baseline");
        System.out.printf("LeakTest: live tensors %d -> %d, RSS %d KiB -> %d KiB (%+d KiB)%n", live, Torch.liveTensors(),
                rssBefore, rssAfter, rssAfter - rssBefore);
        assertTrue(rssAfter - rssBefore < 32 * 1024, "resident memory grew by " + (rssAfter - rssBefore) + " KiB");
        assertEquals(0, Leaks.leakedCount(), "no tensor may be garbage-collected unclosed");
    }

    private static void assumeLinux() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "needs /proc");
    }
}
