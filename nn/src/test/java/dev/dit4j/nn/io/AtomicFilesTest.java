package dev.dit4j.nn.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Leftovers of killed writers are cleaned up by the next write; files a live writer holds are not. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private static void writeText(Path target, String text) {
        AtomicFiles.write(target, ch -> ch.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    @Timeout(10)
    void aKilledWritersTemporaryFileIsDeletedByTheNextWriteOfTheSameTarget() throws IOException {
        Files.writeString(dir.resolve(".ckpt.safetensors.123.tmp"), "torn");
        Files.writeString(dir.resolve(".other.safetensors.456.tmp"), "another target's");
        writeText(dir.resolve("ckpt.safetensors"), "new");
        assertEquals(List.of(".other.safetensors.456.tmp", "ckpt.safetensors"), names());
        assertEquals("new", Files.readString(dir.resolve("ckpt.safetensors")));
    }

    @Test
    @Timeout(20)
    void aTemporaryFileThatALiveProcessHoldsLockedIsKept() throws Exception {
        Path held = dir.resolve(".ckpt.safetensors.789.tmp");
        Files.writeString(held, "being written");
        Process child = child("lock", held.toString());
        try {
            awaitLine(child, "locked");
            writeText(dir.resolve("ckpt.safetensors"), "a");
            assertTrue(Files.exists(held), "another process is still writing it");
        } finally {
            child.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        writeText(dir.resolve("ckpt.safetensors"), "b");
        assertEquals(List.of("ckpt.safetensors"), names(), "its writer died: a leftover now");
    }

    /**
     * Kills a process that saves a checkpoint in a loop at random moments: the target is always
     * the previous or the new file, complete, and the next save leaves nothing else behind.
     */
    @Test
    @Timeout(60)
    void killingAWriterAtRandomMomentsLeavesAWholeFileAndNoStrayOnes() throws Exception {
        Path target = dir.resolve("checkpoint.safetensors");
        Random random = new Random(16);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        int kills = 0;
        while (kills < 3 || (kills < 8 && System.nanoTime() < deadline)) {
            Process child = child("save", target.toString());
            try {
                awaitLine(child, "saving");
                Thread.sleep(random.nextInt(400));
            } finally {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            kills++;
            if (Files.exists(target)) assertWhole(target);
        }
        try (TensorScope s = TensorScope.open()) {
            Safetensors.save(target, Map.of("w", Tensor.full(7, new long[] {1 << 16}, dev.dit4j.nn.DType.FLOAT32, dev.dit4j.nn.Device.CPU)),
                    Map.of("step", "7"));
        }
        assertWhole(target);
        assertEquals(List.of("checkpoint.safetensors"), names());
    }

    /** Every element of a saved checkpoint equals its step, as {@link Child} writes them. */
    private static void assertWhole(Path target) {
        try (Safetensors.Contents c = Safetensors.read(target); TensorScope s = TensorScope.open()) {
            double step = Double.parseDouble(c.metadata().get("step"));
            Tensor w = c.tensors().get("w");
            assertEquals(step, w.min().item(), target + " is torn");
            assertEquals(step, w.max().item(), target + " is torn");
        }
    }

    private static Process child(String mode, String path) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Child.class.getName(), mode, path));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static void awaitLine(Process p, String expected) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            if (line.equals(expected)) return;
            seen.append(line).append('\n');
        }
        fail("the child process ended without '" + expected + "':\n" + seen);
    }

    /** The other process: holds a lock on a file, or saves a checkpoint in a loop, until killed. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Path path = Path.of(args[1]);
            if (args[0].equals("lock")) {
                try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE); var lock = ch.lock()) {
                    System.out.println("locked");
                    Thread.sleep(60_000);
                }
                return;
            }
            for (int step = 0; ; step++) {
                try (TensorScope s = TensorScope.open()) {
                    Tensor w = Tensor.full(step, new long[] {1 << 20}, dev.dit4j.nn.DType.FLOAT32, dev.dit4j.nn.Device.CPU);
                    Safetensors.save(path, Map.of("w", w), Map.of("step", Integer.toString(step)));
                }
                if (step == 0) System.out.println("saving"); // libtorch is loaded: from now on a kill lands in a save
            }
        }
    }
}
