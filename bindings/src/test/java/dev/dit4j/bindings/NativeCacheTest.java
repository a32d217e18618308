package dev.dit4j.bindings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeCacheTest {
    @TempDir
    Path dir;

    private static byte[] content(int size) {
        byte[] b = new byte[size];
        new Random(7).nextBytes(b);
        return b;
    }

    @Test
    void firstUseWritesTheFileUnderItsChecksum() throws IOException {
        byte[] bytes = content(1000);
        NativeCache.Extracted e = new NativeCache(dir).extract(bytes, "libdit4j.so");
        assertTrue(e.written());
        assertEquals(dir.resolve("native").resolve(NativeCache.sha256(bytes)).resolve("libdit4j.so"), e.path());
        assertArrayEquals(bytes, Files.readAllBytes(e.path()));
        assertTrue(Files.isExecutable(e.path()));
    }

    @Test
    void laterUsesReuseTheCachedFile() throws IOException {
        NativeCache cache = new NativeCache(dir);
        Path first = cache.extract(content(1000), "libdit4j.so").path();
        Object inode = Files.readAttributes(first, "unix:ino").get("ino");
        NativeCache.Extracted again = cache.extract(content(1000), "libdit4j.so");
        assertFalse(again.written());
        assertEquals(first, again.path());
        assertEquals(inode, Files.readAttributes(first, "unix:ino").get("ino"));
    }

    @Test
    void aDamagedCachedFileIsReplaced() throws IOException {
        NativeCache cache = new NativeCache(dir);
        byte[] bytes = content(1000);
        Path file = cache.extract(bytes, "libdit4j.so").path();
        byte[] damaged = bytes.clone();
        damaged[500] ^= 1; // same size, one bit flipped
        Files.write(file, damaged);
        assertTrue(cache.extract(bytes, "libdit4j.so").written());
        assertArrayEquals(bytes, Files.readAllBytes(file));
        Files.write(file, new byte[10]); // truncated
        assertTrue(cache.extract(bytes, "libdit4j.so").written());
        assertArrayEquals(bytes, Files.readAllBytes(file));
    }

    @Test
    void aClasspathResourceIsExtracted() throws IOException {
        String resource = "dev/dit4j/bindings/provision-libtorch.sh";
        Path file = new NativeCache(dir).extract(getClass().getClassLoader(), resource, "provision-libtorch.sh").path();
        try (var in = getClass().getClassLoader().getResourceAsStream(resource)) {
            assertArrayEquals(in.readAllBytes(), Files.readAllBytes(file));
        }
    }

    /** Two JVMs extract the same file at the same moment: one writes it, the other waits and reuses it. */
    @Test
    void twoJvmsAtOnceWriteTheFileOnce() throws Exception {
        Path go = dir.resolve("go");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> jvms = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            jvms.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Child.class.getName(),
                    dir.resolve("cache").toString(), go.toString()).redirectErrorStream(true).start());
        }
        for (Process p : jvms) assertTrue(p.getInputStream().read() == 'r', "the child JVM did not start"); // 'ready'
        Files.createFile(go);
        List<String> outcomes = new ArrayList<>();
        for (Process p : jvms) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            outcomes.add(out.substring(out.lastIndexOf('\n') + 1));
        }
        assertEquals(1, outcomes.stream().filter(o -> o.startsWith("written ")).count(), outcomes.toString());
        assertEquals(1, outcomes.stream().filter(o -> o.startsWith("cached ")).count(), outcomes.toString());
        Path file = Path.of(outcomes.get(0).split(" ", 2)[1]);
        assertEquals(file, Path.of(outcomes.get(1).split(" ", 2)[1]));
        assertArrayEquals(content(Child.SIZE), Files.readAllBytes(file));
        try (Stream<Path> left = Files.list(file.getParent())) {
            assertEquals(List.of(file), left.toList(), "no temporary file is left behind");
        }
    }

    /** The second JVM of {@link #twoJvmsAtOnceWriteTheFileOnce}: waits for the go file, then extracts. */
    public static final class Child {
        static final int SIZE = 16 << 20; // large enough that the two extractions overlap

        public static void main(String[] args) throws Exception {
            byte[] bytes = content(SIZE);
            System.out.print("ready\n");
            System.out.flush();
            Path go = Path.of(args[1]);
            while (!Files.exists(go)) Thread.sleep(1);
            NativeCache.Extracted e = new NativeCache(Path.of(args[0])).extract(bytes, "libdit4j.so");
            System.out.println((e.written() ? "written " : "cached ") + e.path());
        }
    }
}
