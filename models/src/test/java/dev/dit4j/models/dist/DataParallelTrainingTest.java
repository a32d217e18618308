package dev.dit4j.models.dist;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.io.Safetensors;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training with Gloo between real processes: each test starts {@link DdpWorker}
 * JVMs with the launcher's environment (MASTER_ADDR/PORT, RANK, WORLD_SIZE, LOCAL_RANK) on a free port.
 */
class DataParallelTrainingTest {
    @TempDir
    Path dir;

    /** A running worker and the lines it printed (stdout and stderr together). */
    record Worker(Process process, List<String> lines) {
        int await(long seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("worker did not finish within " + seconds + " s; its output: " + lines);
            }
            return process.exitValue();
        }

        boolean printed(String line) {
            synchronized (lines) {
                return lines.contains(line);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts {@code world} workers (world 0: one process without the distributed environment). */
    static List<Worker> start(int world, String... args) throws IOException {
        int port = freePort();
        List<Worker> workers = new ArrayList<>();
        for (int rank = 0; rank < Math.max(world, 1); rank++) {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-Xss8m", "-cp", System.getProperty("java.class.path")));
            System.getProperties().forEach((k, v) -> {
                if (k.toString().startsWith("dit4j.")) cmd.add("-D" + k + "=" + v);
            });
            cmd.add(DdpWorker.class.getName());
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            if (world > 0) {
                pb.environment().putAll(Map.of("MASTER_ADDR", "127.0.0.1", "MASTER_PORT", Integer.toString(port),
                        "RANK", Integer.toString(rank), "WORLD_SIZE", Integer.toString(world), "LOCAL_RANK", Integer.toString(rank)));
            }
            Process p = pb.start();
            List<String> lines = Collections.synchronizedList(new ArrayList<>());
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) lines.add(line);
                } catch (IOException e) {
                    // the process is gone
                }
            });
            reader.setDaemon(true);
            reader.start();
            workers.add(new Worker(p, lines));
        }
        return workers;
    }

    static void runToEnd(List<Worker> workers) throws InterruptedException {
        for (Worker w : workers) assertEquals(0, w.await(600), () -> "worker failed: " + w.lines());
    }

    static Map<String, float[]> weights(Path file) {
        try (Safetensors.Contents c = Safetensors.read(file)) {
            Map<String, float[]> out = new java.util.TreeMap<>();
            for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) out.put(e.getKey(), e.getValue().toFloatArray());
            return out;
        }
    }

    /** max |a - b| / max |b| over one tensor. */
    static double relativeError(float[] a, float[] b) {
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }

    @Test
    void twoRanksOfEightEqualOneProcessOfSixteen() throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("two");
        List<Worker> single = start(0, "objective=fixed", "out=" + one, "steps=20", "batch=16");
        List<Worker> pair = start(2, "objective=fixed", "out=" + two, "steps=20", "batch=8");
        runToEnd(single);
        runToEnd(pair);
        Map<String, float[]> reference = weights(one.resolve("rank0.safetensors"));
        Map<String, float[]> rank0 = weights(two.resolve("rank0.safetensors"));
        Map<String, float[]> rank1 = weights(two.resolve("rank1.safetensors"));
        assertEquals(reference.keySet(), rank0.keySet());
        // Over the whole parameter set (model and EMA): ||a - b|| / ||b|| and max |a - b| / max |b|.
        // Per tensor, the attention's key bias stands out (~1e-5): its gradient is zero in exact
        // arithmetic (softmax ignores a shift shared by all keys), so AdamW normalises rounding
        // noise of ~1e-10 into steps; the difference is still ~1e-6 absolute.
        double diff2 = 0, ref2 = 0, maxDiff = 0, maxRef = 0, worstTensor = 0;
        String worstName = "";
        for (String k : reference.keySet()) {
            float[] a = rank0.get(k), b = reference.get(k);
            assertArrayEquals(a, rank1.get(k), k + ": the ranks' replicas are bit-identical");
            for (int i = 0; i < a.length; i++) {
                double d = a[i] - (double) b[i];
                diff2 += d * d;
                ref2 += b[i] * (double) b[i];
                maxDiff = Math.max(maxDiff, Math.abs(d));
                maxRef = Math.max(maxRef, Math.abs(b[i]));
            }
            if (relativeError(a, b) > worstTensor) {
                worstTensor = relativeError(a, b);
                worstName = k;
            }
        }
        double normRelative = Math.sqrt(diff2 / ref2), maxRelative = maxDiff / maxRef;
        System.out.printf("2 ranks x 8 vs 1 process x 16 after 20 steps: norm-relative %.3g, max-relative %.3g (max abs %.3g); "
                + "worst tensor %s at %.3g of its own scale%n", normRelative, maxRelative, maxDiff, worstName, worstTensor);
        assertTrue(normRelative < 1e-5 && maxRelative < 1e-5, "parameters within 1e-5 relative: " + normRelative + ", " + maxRelative);
        // the ranks started apart and the broadcast aligned them; training then moved the weights
        Map<String, float[]> start = weights(two.resolve("rank1-start.safetensors"));
        assertArrayEquals(weights(two.resolve("rank0-start.safetensors")).get("model.x_embedder.proj.weight"), start.get("model.x_embedder.proj.weight"));
        assertTrue(relativeError(start.get("model.final_layer.linear.weight"), rank0.get("model.final_layer.linear.weight")) > 1e-3, "20 steps changed the weights");
    }

    @Test
    void aKilledWorkerStopsTheOthersWithAClearError() throws Exception {
        List<Worker> pair = start(2, "objective=adm", "out=" + dir, "steps=1000", "batch=8", "timeout=15");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!pair.get(1).printed("step 3") && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(pair.get(1).printed("step 3"), () -> "rank 1 never reached step 3: " + pair.get(1).lines());
        long killed = System.nanoTime();
        pair.get(1).process().destroyForcibly();
        int code = pair.get(0).await(120);
        double seconds = (System.nanoTime() - killed) / 1e9;
        String out = String.join("\n", pair.get(0).lines());
        assertNotEquals(0, code, out);
        assertTrue(out.contains("DistributedException") && out.contains("rank 0 of 2"), out);
        assertTrue(seconds < 15 + 10, "rank 0 stopped " + seconds + " s after the kill (timeout 15 s)");
    }

    @Test
    void aKilledTwoProcessRunResumesExactly() throws Exception {
        Path straight = dir.resolve("straight"), broken = dir.resolve("broken");
        List<Worker> uninterrupted = start(2, "objective=adm", "out=" + straight, "steps=12", "batch=8");
        runToEnd(uninterrupted);
        // checkpoints at 3 and 6, dies after step 7 without a word (Runtime.halt, as a kill)
        List<Worker> killed = start(2, "objective=adm", "out=" + broken, "steps=12", "batch=8", "checkpointEvery=3", "haltAfter=7");
        for (Worker w : killed) assertEquals(3, w.await(600), () -> "expected the halt: " + w.lines());
        List<Worker> resumed = start(2, "objective=adm", "out=" + broken, "steps=12", "batch=8", "resume=" + broken.resolve("ckpt.safetensors"));
        runToEnd(resumed);
        assertTrue(resumed.get(0).printed("step 7") && !resumed.get(0).printed("step 6"), "resumed at step 6: " + resumed.get(0).lines());
        for (int rank = 0; rank < 2; rank++) {
            Map<String, float[]> a = weights(straight.resolve("rank" + rank + ".safetensors"));
            Map<String, float[]> b = weights(broken.resolve("rank" + rank + ".safetensors"));
            for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), "rank " + rank + ", " + k + ": the resumed run continues exactly");
        }
    }
}
