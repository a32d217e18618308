package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LauncherTest {
    @Test
    void theFlagIsFoundAndRemovedFromTheWorkersCommand() {
        String[] args = {"train", "--minutes", "1", "--nproc-per-node", "2", "--batch", "16"};
        assertEquals(2, Launcher.processesRequested(args));
        assertEquals(List.of("train", "--minutes", "1", "--batch", "16"), Launcher.workerArgs(args));
        assertEquals(3, Launcher.processesRequested(new String[] {"train", "--nproc-per-node=3"}));
        assertEquals(List.of("train"), Launcher.workerArgs(new String[] {"train", "--nproc-per-node=3"}));
        assertEquals(-1, Launcher.processesRequested(new String[] {"train", "--batch", "16"}));
    }

    @Test
    void badCountsAndIncompleteMultiNodeSettingsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Launcher.processesRequested(new String[] {"train", "--nproc-per-node", "0"}));
        assertTrue(e.getMessage().contains("--nproc-per-node needs a process count >= 1, got '0'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Launcher.processesRequested(new String[] {"train", "--nproc-per-node"}));
        String[] args = {"train", "--nproc-per-node", "2"};
        e = assertThrows(IllegalArgumentException.class, () -> Launcher.launch(args, Map.of("NNODES", "2", "NODE_RANK", "1")));
        assertTrue(e.getMessage().contains("MASTER_ADDR"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Launcher.launch(args, Map.of("NNODES", "2", "NODE_RANK", "2", "MASTER_ADDR", "n0")));
        assertTrue(e.getMessage().contains("NODE_RANK 2 must be below NNODES 2"), e.getMessage());
        long start = System.nanoTime();
        e = assertThrows(IllegalArgumentException.class, () -> Launcher.launch(args, Map.of("MASTER_ADDR", "999.1.1.1", "MASTER_PORT", "29561")));
        assertTrue(e.getMessage().startsWith("MASTER_ADDR 999.1.1.1 is not an address"), e.getMessage());
        assertTrue((System.nanoTime() - start) / 1e9 < 30, "refused before any worker starts");
    }

    @Test
    void commandsThatDoNotTrainDataParallelAreRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Launcher.launch(new String[] {"sample", "--count", "4", "--nproc-per-node", "2"}, Map.of()));
        assertTrue(e.getMessage().contains("sample runs in one process: --nproc-per-node is for train, train-dit, train-latents"), e.getMessage());
    }
}
