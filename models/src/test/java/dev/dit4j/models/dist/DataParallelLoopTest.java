package dev.dit4j.models.dist;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.io.Safetensors;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link dev.dit4j.models.train.TrainingLoop} under a time budget in a two-process Gloo job ({@link LoopWorker}): both ranks stop at the same step. */
class DataParallelLoopTest {
    @TempDir
    Path dir;

    @Test
    void aTimeBudgetEndsEveryRankAtTheSameStep() throws Exception {
        List<String> outputs = runWorkers("0.03");
        long[] stopped = new long[2], reports = new long[2];
        Pattern line = Pattern.compile("rank (\\d) stopped at step (\\d+), (\\d+) reports");
        for (String output : outputs) {
            Matcher m = line.matcher(output);
            assertTrue(m.find(), output);
            stopped[Integer.parseInt(m.group(1))] = Long.parseLong(m.group(2));
            reports[Integer.parseInt(m.group(1))] = Long.parseLong(m.group(3));
        }
        assertTrue(stopped[0] > 0, "rank 0 trained");
        assertEquals(stopped[0], stopped[1], "rank 0's clock decides for both");
        assertEquals(stopped[0] / 2, reports[0], "rank 0 reports every 2 steps");
        assertEquals(0, reports[1], "other ranks report nothing");
        try (var c = Safetensors.index(dir.resolve("ckpt.safetensors"))) {
            assertEquals(Long.toString(stopped[0]), c.metadata().get("step"), "the final checkpoint");
            assertEquals("2", c.metadata().get("world_size"));
        }
    }

    /** A stop request (a signal) that only rank 1 receives, from step 6: both ranks stop after step 6 and the checkpoint holds it. */
    @Test
    void aStopRequestOnAnyRankStopsAllAtTheSameStep() throws Exception {
        List<String> outputs = runWorkers("10", "6");
        for (String output : outputs) assertTrue(output.matches("(?s).*rank \\d stopped at step 6, \\d+ reports, by request.*"), output);
        try (var c = Safetensors.index(dir.resolve("ckpt.safetensors"))) {
            assertEquals("6", c.metadata().get("step"), "the checkpoint at the stop");
        }
    }

    private List<String> runWorkers(String... args) throws Exception {
        int port = DataParallelTrainingTest.freePort();
        List<Process> workers = new ArrayList<>();
        for (int rank = 0; rank < 2; rank++) {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
            System.getProperties().forEach((k, v) -> {
                if (k.toString().startsWith("dit4j.")) cmd.add("-D" + k + "=" + v);
            });
            cmd.addAll(List.of(LoopWorker.class.getName(), dir.toString()));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().putAll(Map.of("MASTER_ADDR", "127.0.0.1", "MASTER_PORT", Integer.toString(port),
                    "RANK", Integer.toString(rank), "WORLD_SIZE", "2", "LOCAL_RANK", Integer.toString(rank)));
            workers.add(pb.start());
        }
        List<String> outputs = new ArrayList<>();
        for (Process p : workers) {
            String output;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                output = String.join("\n", in.lines().toList());
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) p.destroyForcibly();
            assertEquals(0, p.exitValue(), output);
            outputs.add(output);
        }
        return outputs;
    }
}
