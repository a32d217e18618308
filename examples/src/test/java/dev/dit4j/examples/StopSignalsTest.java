package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Preemption: a SIGTERM to a training command finishes the step, writes the checkpoint, exits 143; --resume continues it. */
class StopSignalsTest {
    @TempDir
    Path dir;

    @Test
    void exitCodesFollowTheSignal() {
        StopSignals.install(); // graceful, as in a training command: a signal is noted, not acted on at once
        StopSignals.reset();
        assertEquals(0, StopSignals.exitCode(0));
        assertEquals(143, StopSignals.code("TERM"));
        assertEquals(130, StopSignals.code("INT"));
        StopSignals.received("INT");
        try {
            assertTrue(StopSignals.requested());
            assertEquals(130, StopSignals.exitCode(0));
            StopSignals.received("TERM"); // within a second of the first: the same stop (Ctrl-C reaches launcher and workers together)
            assertEquals(130, StopSignals.exitCode(0));
        } finally {
            StopSignals.reset();
        }
    }

    @Test
    @Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSigtermWritesTheCheckpointAndExits143ThenResumeContinues() throws Exception {
        Path latents = dir.resolve("latents.safetensors");
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(1)) {
            LatentFiles.write(latents, Tensor.randn(new long[] {8, 4, 8, 8}, DType.FLOAT32, Device.CPU, g),
                    Tensor.randint(0, 10, new long[] {8}, Device.CPU, g), Map.of());
        }
        Path out = dir.resolve("out");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path")));
        System.getProperties().forEach((k, v) -> {
            if (k.toString().startsWith("dit4j.")) cmd.add("-D" + k + "=" + v);
        });
        cmd.addAll(List.of(Main.class.getName(), "train-latents", "--latents", latents.toString(), "--classes", "10", "--batch", "4",
                "--model", "DiT-S/8", "--depth", "1", "--steps", "100000000", "--log-every", "1", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return e.toString();
            }
        });
        StringBuilder output = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            int steps = 0;
            for (String line; (line = in.readLine()) != null; ) {
                output.append(line).append('\n');
                if (line.startsWith("step ") && ++steps == 3) p.toHandle().destroy(); // SIGTERM after a few steps (Process.destroy would close our pipes)
            }
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "exits after the signal");
        String stderr = err.get(10, TimeUnit.SECONDS);
        assertEquals(143, p.exitValue(), output + stderr);
        Matcher m = Pattern.compile("stopped by SIGTERM after step (\\d+); checkpoint (\\S+): continue with --resume").matcher(stderr);
        assertTrue(m.find(), stderr);
        assertFalse(stderr.contains("\tat "), "no stack trace: " + stderr);
        long stoppedAt = Long.parseLong(m.group(1));
        assertTrue(stoppedAt >= 3, stderr);
        Path checkpoint = out.resolve("checkpoint.safetensors");
        assertEquals(checkpoint.toString(), m.group(2));
        try (var c = Safetensors.index(checkpoint)) {
            assertEquals(Long.toString(stoppedAt), c.metadata().get("step"), "the checkpoint holds the last finished step");
        }
        assertTrue(Files.list(out).noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no partial files");

        int code = new CommandLine(new TrainLatents()).execute("--latents", latents.toString(), "--classes", "10", "--batch", "4",
                "--model", "DiT-S/8", "--depth", "1", "--steps", Long.toString(stoppedAt + 2), "--log-every", "1", "--out", out.toString(),
                "--resume", checkpoint.toString());
        assertEquals(0, code);
        try (var c = Safetensors.index(checkpoint)) {
            assertEquals(Long.toString(stoppedAt + 2), c.metadata().get("step"), "resumed from the stop");
        }
    }
}
