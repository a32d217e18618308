package dev.dit4j.nn.dist;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Gloo collectives between two ranks of this JVM (one thread each), checked against plain arithmetic. */
class ProcessGroupTest {
    private static ExecutorService ranks;

    @BeforeAll
    static void threads() {
        ranks = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void stop() {
        ranks.shutdownNow();
    }

    interface RankBody {
        void run(ProcessGroup pg) throws Exception;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs body on ranks 0 and 1 of a fresh Gloo group; rethrows the first failure. */
    private static void onTwoRanks(Duration timeout, RankBody... bodies) throws Exception {
        int port = freePort();
        List<Future<?>> done = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            int rank = r;
            done.add(ranks.submit(() -> {
                long live = Torch.liveTensors();
                try (ProcessGroup pg = ProcessGroup.create(ProcessGroup.Backend.GLOO, new Rendezvous("127.0.0.1", port, rank, 2, rank), timeout);
                     TensorScope s = TensorScope.open()) {
                    bodies[Math.min(rank, bodies.length - 1)].run(pg);
                }
                return live;
            }));
        }
        for (Future<?> f : done) f.get(60, TimeUnit.SECONDS);
    }

    @Test
    void collectivesCombineBothRanks() throws Exception {
        long live = Torch.liveTensors();
        onTwoRanks(Duration.ofSeconds(20), pg -> {
            int r = pg.rank();
            Tensor a = Tensor.of(new float[] {1 + r, 10 * (r + 1), -r}, 3);
            pg.allReduce(a, ProcessGroup.ReduceOp.SUM);
            assertArrayEquals(new float[] {3, 30, -1}, a.toFloatArray());

            Tensor avg = Tensor.of(new float[] {2 * r, 4}, 2);
            try (Work w = pg.allReduceAsync(avg, ProcessGroup.ReduceOp.AVG)) {
                w.await();
                w.await(); // a second wait does not divide again
            }
            assertArrayEquals(new float[] {1, 4}, avg.toFloatArray());

            Tensor max = Tensor.of(new float[] {r, -r}, 2);
            pg.allReduce(max, ProcessGroup.ReduceOp.MAX);
            assertArrayEquals(new float[] {1, 0}, max.toFloatArray());

            Tensor b = Tensor.of(new long[] {r == 1 ? 7 : 0, r == 1 ? 8 : 0}, 2);
            pg.broadcast(b, 1);
            assertArrayEquals(new long[] {7, 8}, b.toLongArray());

            Tensor gathered = Tensor.zeros(4);
            pg.allGather(gathered, Tensor.of(new float[] {r, r + 0.5f}, 2));
            assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f}, gathered.toFloatArray());

            Tensor scattered = Tensor.zeros(2);
            pg.reduceScatter(scattered, Tensor.of(new float[] {1, 2, 3 + r, 4 + r}, 4), ProcessGroup.ReduceOp.AVG);
            assertArrayEquals(r == 0 ? new float[] {1, 2} : new float[] {3.5f, 4.5f}, scattered.toFloatArray());

            pg.barrier();
        });
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void aPeerThatNeverAnswersIsATimeout() throws Exception {
        onTwoRanks(Duration.ofSeconds(2), pg -> {
            if (pg.rank() == 0) {
                long start = System.nanoTime();
                DistributedException e = assertThrows(DistributedException.class, () -> pg.allReduce(Tensor.ones(4), ProcessGroup.ReduceOp.SUM));
                assertTrue(e.timedOut(), e.getMessage());
                assertTrue(e.getMessage().contains("all-reduce on rank 0 of 2"), e.getMessage());
                assertTrue((System.nanoTime() - start) / 1e9 < 10, "failed within the timeout");
            } else {
                Thread.sleep(3000); // misses the collective
            }
        });
    }

    @Test
    void aCollectiveWaitingForAPeerSaysSo() throws Exception {
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        Duration every = Work.progressEvery;
        try {
            Work.progressEvery = Duration.ofMillis(700);
            System.setErr(new java.io.PrintStream(captured, true));
            onTwoRanks(Duration.ofSeconds(3), pg -> {
                if (pg.rank() == 0) {
                    assertThrows(DistributedException.class, () -> pg.allReduce(Tensor.ones(4), ProcessGroup.ReduceOp.SUM));
                } else {
                    Thread.sleep(4000); // misses the collective
                }
            });
        } finally {
            System.setErr(err);
            Work.progressEvery = every;
        }
        String lines = captured.toString();
        assertTrue(lines.contains("dit4j: all-reduce on rank 0 of 2 waiting for the other ranks, ") && lines.contains(" s of 3\n"), lines);
    }

    @Test
    void aRankThatNeverJoinsIsATimeout() throws Exception {
        int port = freePort();
        long start = System.nanoTime();
        DistributedException e = assertThrows(DistributedException.class,
                () -> ProcessGroup.create(ProcessGroup.Backend.GLOO, new Rendezvous("127.0.0.1", port, 0, 2, 0), Duration.ofSeconds(2)));
        assertTrue(e.timedOut(), e.getMessage());
        assertTrue(e.getMessage().contains("joining at 127.0.0.1:" + port), e.getMessage());
        assertTrue((System.nanoTime() - start) / 1e9 < 10);
    }

    @Test
    void aRankWaitingToJoinSaysSoAndGivesUpWithAClearError() throws Exception {
        int port = freePort();
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        Duration every = ProcessGroup.progressEvery;
        DistributedException e;
        try {
            ProcessGroup.progressEvery = Duration.ofMillis(700);
            System.setErr(new java.io.PrintStream(captured, true));
            e = assertThrows(DistributedException.class,
                    () -> ProcessGroup.create(ProcessGroup.Backend.GLOO, new Rendezvous("127.0.0.1", port, 0, 2, 0), Duration.ofSeconds(3)));
        } finally {
            System.setErr(err);
            ProcessGroup.progressEvery = every;
        }
        String lines = captured.toString();
        assertTrue(lines.contains("dit4j: rank 0 waiting for the other 1 of 2 ranks at 127.0.0.1:" + port + ", "), lines);
        assertTrue(lines.contains(" s of 3\n"), lines);
        assertTrue(e.timedOut());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("did not all join within 3 s") && e.getMessage().contains("DIT4J_DIST_TIMEOUT"), e.getMessage());

        long start = System.nanoTime();
        var bad = assertThrows(IllegalArgumentException.class,
                () -> ProcessGroup.create(ProcessGroup.Backend.GLOO, new Rendezvous("999.1.1.1", port, 1, 2, 1), Duration.ofSeconds(60)));
        assertTrue(bad.getMessage().contains("MASTER_ADDR 999.1.1.1"), bad.getMessage());
        assertTrue((System.nanoTime() - start) / 1e9 < 30, "refused without waiting out the timeout");

        assertEquals(ProcessGroup.DEFAULT_TIMEOUT, ProcessGroup.timeoutFromEnvironment(java.util.Map.of()));
        assertEquals(Duration.ofSeconds(30), ProcessGroup.timeoutFromEnvironment(java.util.Map.of("DIT4J_DIST_TIMEOUT", "30")));
        assertThrows(IllegalArgumentException.class, () -> ProcessGroup.timeoutFromEnvironment(java.util.Map.of("DIT4J_DIST_TIMEOUT", "soon")));
        assertThrows(IllegalArgumentException.class, () -> ProcessGroup.timeoutFromEnvironment(java.util.Map.of("DIT4J_DIST_TIMEOUT", "-1")));
    }

    /**
     * Rank 0's store listens on MASTER_ADDR's interface only: 127.0.0.1 here, never all interfaces.
     * Skipped with a shim installed in ~/.m2 (built before this change); runs with the reactor's own
     * shim or -Ddit4j.shim=native/build/libdit4j.so.
     */
    @Test
    void theStoreListensOnTheMasterAddressOnly() throws Exception {
        String source = dev.dit4j.bindings.NativeLoader.load().shimSource();
        org.junit.jupiter.api.Assumptions.assumeFalse(source.contains("/.m2/repository/"), "an installed shim, maybe older: " + source);
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/net/tcp")), "Linux /proc/net");
        int port = freePort();
        Thread waiting = new Thread(() -> {
            try {
                ProcessGroup.create(ProcessGroup.Backend.GLOO, new Rendezvous("127.0.0.1", port, 0, 2, 0), Duration.ofSeconds(3)).close();
            } catch (DistributedException e) {
                // nobody came: expected
            }
        });
        waiting.start();
        List<String> listening = List.of();
        for (int i = 0; i < 50 && listening.isEmpty(); i++) {
            Thread.sleep(50);
            listening = listeners(port);
        }
        waiting.join();
        assertFalse(listening.isEmpty(), "rank 0 listened on port " + port);
        assertEquals(List.of("0100007F"), listening, "only 127.0.0.1, not all interfaces (00000000 or ::)");
    }

    /** The local addresses (hex, as /proc/net/tcp{,6} print them) listening on {@code port}. */
    private static List<String> listeners(int port) throws java.io.IOException {
        List<String> out = new java.util.ArrayList<>();
        String hexPort = String.format(":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            java.nio.file.Path p = java.nio.file.Path.of(table);
            if (!java.nio.file.Files.isReadable(p)) continue;
            for (String line : java.nio.file.Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[1].endsWith(hexPort) && f[3].equals("0A")) out.add(f[1].substring(0, f[1].length() - 5));
            }
        }
        return out;
    }

    @Test
    void badArgumentsAreNamed() throws Exception {
        onTwoRanks(Duration.ofSeconds(20), pg -> {
            var e = assertThrows(RuntimeException.class, () -> pg.allGather(Tensor.zeros(3), Tensor.zeros(2)));
            assertTrue(e.getMessage().contains("all-gather output of 3 elements"), e.getMessage());
            assertThrows(RuntimeException.class, () -> pg.broadcast(Tensor.zeros(2), 5));
            pg.barrier();
        });
        assertThrows(IllegalArgumentException.class, () -> new Rendezvous("127.0.0.1", 29500, 2, 2, 0));
        var env = java.util.Map.of("WORLD_SIZE", "2", "RANK", "x");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Rendezvous.fromEnvironment(env)).getMessage().contains("RANK"));
        assertTrue(Rendezvous.fromEnvironment(java.util.Map.of()).isEmpty());
    }
}
