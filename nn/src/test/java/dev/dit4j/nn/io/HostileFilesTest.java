package dev.dit4j.nn.io;

import static dev.dit4j.nn.io.TorchCheckpointTest.assertRejected;
import static dev.dit4j.nn.io.TorchCheckpointTest.checkpointBytes;
import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Files built to hang, exhaust or crash a reader, generated here (no blobs are committed). Each
 * must end, within seconds and a few hundred MB, in a CheckpointException that names the file, or
 * load correctly when it is legitimate. Truncations, corrupt bytes, bad offsets and code-executing
 * globals have their basic cases in SafetensorsTest and TorchCheckpointTest; these extend them.
 * A separate thread, so that a reader blocked in open() still fails the test.
 */
@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileFilesTest extends FileTestSupport {
    /** Every way to open a checkpoint, each closing what it loaded. */
    private static final List<Function<Path, Object>> READERS = List.of(
            f -> { Safetensors.read(f).close(); return null; },
            f -> { Safetensors.index(f).close(); return null; },
            f -> { Safetensors.map(f).close(); return null; },
            f -> { TorchCheckpoint.closeTensors(TorchCheckpoint.read(f)); return null; });

    private static CheckpointException rejectedByAll(Path file, String... words) {
        CheckpointException last = null;
        for (Function<Path, Object> reader : READERS) {
            last = assertThrows(CheckpointException.class, () -> reader.apply(file));
            String m = last.getMessage();
            assertEquals(1, m.split(java.util.regex.Pattern.quote(file.toString()), -1).length - 1, "names the file once: " + m);
            for (String w : words) assertTrue(m.contains(w), "mentions '" + w + "': " + m);
        }
        return last;
    }

    // ---- 1. special files are refused before they are opened ---------------------------------

    @Test
    void fifosDevicesAndDirectoriesAreRefusedWithoutOpeningThem() throws Exception {
        Path fifo = dir.resolve("w.safetensors");
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo is available");
        rejectedByAll(fifo, "FIFO", "not a regular file"); // opening it would block until a writer came
        rejectedByAll(dir, "is a directory");
        Path dev = Path.of("/dev/null");
        if (Files.exists(dev)) rejectedByAll(dev, "character device");
    }

    @Test
    void symlinksToRegularFilesLoad() throws IOException {
        Path st = dir.resolve("real.safetensors");
        Path pt = dir.resolve("real.pt");
        try (Tensor t = Tensor.ones(3)) {
            Safetensors.save(st, Map.of("w", t));
            TorchCheckpoint.write(pt, Map.of("w", t));
        }
        try (Safetensors.Contents c = Safetensors.read(Files.createSymbolicLink(dir.resolve("link.safetensors"), st))) {
            assertArrayEquals(new float[] {1, 1, 1}, c.tensors().get("w").toFloatArray());
        }
        Map<String, Tensor> sd = TorchCheckpoint.readStateDict(Files.createSymbolicLink(dir.resolve("link.pt"), pt));
        TorchCheckpoint.closeTensors(sd);
    }

    // ---- 2. shared references: each object visited once ----------------------------------------

    /** {"model": {"w": tensor}, "extra": L} with L = [L, L] 100 times over: 2^100 paths, 101 lists. */
    @Test
    void sharedListsInExtraEntriesLoadAndCloseInLinearTime() throws IOException {
        Ops p = new Ops().op('}', '(').str("model").op('}', '(').str("w").floatTensor("0", 4, 4).op('u');
        p.str("extra").sharedLists(100).op('u');
        Path file = torchFile(p.stop(), floats(1, 2, 3, 4));

        Object root = TorchCheckpoint.read(file);
        Tensor w = (Tensor) ((Map<?, ?>) ((Map<?, ?>) root).get("model")).get("w");
        TorchCheckpoint.closeTensorsExcept(root, List.of(w));
        assertArrayEquals(new float[] {1, 2, 3, 4}, w.toFloatArray());
        TorchCheckpoint.closeTensors(root);

        Map<String, Tensor> sd = TorchCheckpoint.readStateDict(file, "model"); // closes the rest of the root
        assertEquals(List.of("w"), List.copyOf(sd.keySet()));
        TorchCheckpoint.closeTensors(sd);
    }

    @Test
    void oneTensorReferencedManyTimesIsClosedOnce() throws IOException {
        Ops p = new Ops().op(']', '(').floatTensor("0", 4, 4).put(0);
        for (int i = 1; i < 1000; i++) p.get(0);
        Path file = torchFile(p.op('e').stop(), floats(1, 2, 3, 4));
        Object root = TorchCheckpoint.read(file);
        assertEquals(1000, ((List<?>) root).size());
        TorchCheckpoint.closeTensors(root);
    }

    // ---- 3. untrusted values in errors: summarised, never printed or recursed into -------------

    @Test
    void sharedStructureInAPersistentIdGivesAShortMessage() throws IOException {
        Path file = torchFile(new Ops().sharedLists(100).op('Q').stop(), Map.of());
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.read(file));
        assertTrue(e.getMessage().contains("unsupported persistent id") && e.getMessage().length() < 1000, e.getMessage());

        Path tuple = torchFile(new Ops().sharedLists(100).put(200).get(200).get(200).op(0x86, 'Q').stop(), Map.of());
        assertRejected(tuple, "a list of 2 items");
    }

    @Test
    void deepNestingInsideAPersistentIdOrRebuildArgumentsIsNoStackOverflow() throws IOException {
        assertRejected(torchFile(new Ops().deepLists(100_000).op(0x85, 'Q').stop(), Map.of()), "persistent id");

        // (storage, 0, <deep list as the size>, (1,), ...)
        Ops size = new Ops().rebuildOpen("0", 4).integer(0).deepLists(100_000).op('(').integer(1).op('t');
        assertRejected(torchFile(size.rebuildClose().stop(), floats(1, 2, 3, 4)), "tensor size");

        // a deep value where torch keeps backward hooks: ignored, the tensor loads
        Ops hooks = new Ops().rebuildOpen("0", 4).integer(0).op('(').integer(4).op('t', '(').integer(1).op('t', 0x89)
                .deepLists(100_000).op('t', 'R');
        Object t = TorchCheckpoint.read(torchFile(hooks.stop(), floats(1, 2, 3, 4)));
        assertArrayEquals(new float[] {1, 2, 3, 4}, ((Tensor) t).toFloatArray());
        TorchCheckpoint.closeTensors(t);

        // _rebuild_parameter of shared lists
        Ops param = new Ops().global("torch._utils", "_rebuild_parameter").sharedLists(100).put(200).get(200).get(200).op(0x87, 'R');
        assertRejected(torchFile(param.stop(), Map.of()), "needs a tensor");
    }

    @Test
    void hugeNamesAreCutShortInMessages() throws IOException {
        String name = "x".repeat(1 << 20);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TorchCheckpoint.read(torchFile(new Ops().global("os" + name, "system").stop(), Map.of())));
        assertTrue(e.getMessage().contains("chars)") && e.getMessage().length() < 1000, e.getMessage().substring(0, 300));

        Path st = write("longkey.safetensors", SafetensorsTest.file("{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8));
        CheckpointException s = assertThrows(CheckpointException.class, () -> Safetensors.read(st));
        assertTrue(s.getMessage().length() < 1000, s.getMessage().substring(0, 300));
    }

    /** set(L) REDUCEd again and again on one memoised 100k-item list: quadratic work unless bounded. */
    @Test
    void rebuildingSetsFromOneListAgainAndAgainIsBounded() throws IOException {
        Ops p = new Ops().global("builtins", "set").put(0).op(']', '(');
        for (int i = 0; i < 100_000; i++) p.integer(70_000 + i);
        p.op('e').put(1).op('0', '0', ']'); // drop both, build the result list
        for (int i = 0; i < 100_000; i++) p.get(0).get(1).op(0x85, 'R', 'a');
        assertRejected(torchFile(p.stop(), Map.of()), "more list items than the pickle has bytes");
    }

    /** Keys crafted to share one hash code would make each insert walk all of them: refused past a small bound. */
    @Test
    void dictKeysCraftedToCollideAreRefused() throws IOException {
        Ops p = new Ops().op('}', '(');
        for (long k = 1; k <= 100_000; k++) p.integer((k << 32) | k).integer(0); // Long.hashCode of each is 0
        assertRejected(torchFile(p.op('u').stop(), Map.of()), "distinct keys of one hash code");
        Ops fine = new Ops().op('}', '(');
        for (long k = 1; k <= 64; k++) fine.integer((k << 32) | k).integer(0);
        TorchCheckpoint.closeTensors(TorchCheckpoint.read(torchFile(fine.op('u').stop(), Map.of())));
    }

    @Test
    void moreCodeExecutionAttemptsAreRefused() throws IOException {
        assertRejected(torchFile(new Ops().str("builtins").str("eval").op(0x93).stop(), Map.of()), "builtins.eval");
        assertRejected(torchFile(new Ops().global("__builtin__", "getattr").stop(), Map.of()), "builtins.getattr");
        Ops inst = new Ops().op('(').str("id");
        inst.b.writeBytes("ios\nsystem\n".getBytes(StandardCharsets.US_ASCII)); // INST: import and call
        assertRejected(torchFile(inst.stop(), Map.of()), "opcode 0x69");
        // BUILD on an allowed class with a non-dict state (the __setstate__ route)
        Ops build = new Ops().global("argparse", "Namespace").op(')', 0x81).str("state").op('b');
        assertRejected(torchFile(build.stop(), Map.of()), "BUILD");
        // a "tensor" whose storage is a call result rather than a persistent id
        Ops fake = new Ops().global("torch._utils", "_rebuild_tensor_v2").op('(').global("collections", "OrderedDict").op(')', 'R')
                .integer(0).op(')', ')', 't', 'R');
        assertRejected(torchFile(fake.stop(), Map.of()), "_rebuild_tensor_v2 needs");
    }

    @Test
    void zipBombsAreRefusedBeforeInflating() throws IOException {
        // 128 MiB of zeros deflates to ~130 kB: more than 16 times the file plus 64 MiB
        long numel = 32L << 20;
        Path bomb = torchFile(new Ops().floatTensor("0", numel, numel).stop(), Map.of("0", new byte[(int) (numel * 4)]));
        assertTrue(Files.size(bomb) < 1 << 20);
        assertRejected(bomb, "more than this file can justify");
        Map<String, byte[]> pkl = Map.of("archive/data.pkl", new byte[65 << 20]);
        assertRejected(write("pkl-bomb.pt", TorchCheckpointTest.zipBytes(pkl)), "at most");
    }

    // ---- 4. safetensors headers are checked as the safetensors library does --------------------

    private Path st(String name, String header, int dataBytes) throws IOException {
        return write(name, SafetensorsTest.file(header, dataBytes));
    }

    private void stRejected(Path file, String... words) {
        for (Function<Path, Object> reader : READERS.subList(0, 3)) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> reader.apply(file));
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            for (String w : words) assertTrue(e.getMessage().contains(w), "mentions '" + w + "': " + e.getMessage());
            for (String gson : List.of("setStrictness", "LENIENT", "Troubleshooting", "gson")) {
                assertFalse(e.getMessage().contains(gson), "no Gson advice: " + e.getMessage());
            }
        }
    }

    private static String f32(String key, long begin, long end, long... shape) {
        StringBuilder s = new StringBuilder("\"" + key + "\":{\"dtype\":\"F32\",\"shape\":[");
        for (int i = 0; i < shape.length; i++) s.append(i > 0 ? "," : "").append(shape[i]);
        return s.append("],\"data_offsets\":[").append(begin).append(",").append(end).append("]}").toString();
    }

    @Test
    void duplicateKeysAreRefused() throws IOException {
        stRejected(st("dup", "{" + f32("w", 0, 4, 1) + "," + f32("w", 4, 8, 1) + "}", 8), "'w' twice");
        stRejected(st("dupmeta", "{\"__metadata__\":{\"a\":\"1\"},\"__metadata__\":{\"a\":\"2\"}}", 0), "'__metadata__' twice");
        stRejected(st("dupmetakey", "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0), "metadata key 'a' twice");
        stRejected(st("dupfield", "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "'dtype' twice", "'w'");
        stRejected(st("escaped", "{" + f32("w", 0, 4, 1) + "," + f32("\\u0077", 4, 8, 1) + "}", 8), "'w' twice");
    }

    @Test
    void dataOffsetsMustTileTheDataSectionExactly() throws IOException {
        stRejected(st("overlap", "{" + f32("a", 0, 8, 2) + "," + f32("b", 4, 12, 2) + "}", 12), "overlap", "'b'", "'a'");
        stRejected(st("alias", "{" + f32("a", 0, 4, 1) + "," + f32("b", 0, 4, 1) + "}", 4), "overlap");
        stRejected(st("gap", "{" + f32("a", 0, 4, 1) + "," + f32("b", 8, 12, 1) + "}", 12), "gap", "'b'");
        stRejected(st("start", "{" + f32("a", 4, 8, 1) + "}", 8), "do not start at 0", "'a'");
        stRejected(st("slack", "{" + f32("a", 0, 4, 1) + "}", 8), "4 bytes after");
        stRejected(st("nothing", "{}", 4), "4 bytes after");
        stRejected(st("backwards", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4), "'a'", "before they begin");
        // out of order in the header but tiling once sorted: legitimate
        Path ok = st("unsorted", "{" + f32("b", 4, 8, 1) + "," + f32("e", 8, 8, 0) + "," + f32("a", 0, 4, 1) + "}", 8);
        try (Safetensors.Contents c = Safetensors.read(ok)) {
            assertEquals(List.of("b", "e", "a"), List.copyOf(c.tensors().keySet()));
        }
    }

    @Test
    void offsetsAndDimensionsMustBeIntegersThatFit() throws IOException {
        String end = "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,%s]}";
        stRejected(st("fraction", "{" + end.formatted("4.0") + "}", 4), "data_offsets for 'w'", "'4.0'", "not a non-negative integer");
        stRejected(st("exp", "{" + end.formatted("4e0") + "}", 4), "data_offsets for 'w'", "'4e0'");
        stRejected(st("2^64", "{" + end.formatted("18446744073709551620") + "}", 4), "data_offsets for 'w'", "more than 2^63 - 1");
        stRejected(st("2^63", "{" + end.formatted("9223372036854775808") + "}", 4), "more than 2^63 - 1");
        stRejected(st("string", "{" + end.formatted("\"4\"") + "}", 4), "data_offsets for 'w'", "not a number");
        stRejected(st("three", "{" + end.formatted("4,8") + "}", 8), "data_offsets for 'w'", "[begin, end]");
        stRejected(st("halfdim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), "shape for 'w'", "'1.5'");
        long[] ones = new long[65];
        java.util.Arrays.fill(ones, 1);
        stRejected(st("65dims", "{" + f32("w", 0, 4, ones) + "}", 4), "shape for 'w'", "more than 64 dimensions");
        stRejected(st("overflow", "{" + f32("w", 0, 4, 1L << 62, 4) + "}", 4), "shape for 'w'", "overflows 64 bits");
    }

    @Test
    void malformedHeadersGetOurWordsNotGsons() throws IOException {
        stRejected(st("unquoted", "{w:1}", 0), "malformed JSON header", "line 1");
        stRejected(st("comma", "{" + f32("w", 0, 4, 1) + ",}", 4), "malformed JSON header");
        stRejected(st("two", "{} {}", 0), "JSON");
        stRejected(st("comment", "{/* */}", 0), "malformed JSON header");
        byte[] bad = SafetensorsTest.file("{\"\u00e9\":{}}", 0);
        bad[10] = (byte) 0xC3; // a lone lead byte of a two-byte sequence
        bad[11] = '"';
        stRejected(write("utf8", bad), "not valid UTF-8");
    }

    // ---- 5. loaded weights never alias the file ------------------------------------------------

    @Test
    void overwritingTheFileInPlaceCannotReachLoadedTensors() throws IOException {
        Path file = dir.resolve("w.safetensors");
        try (Tensor t = Tensor.ones(1 << 16)) {
            Safetensors.save(file, Map.of("w", t));
        }
        try (Safetensors.Contents c = Safetensors.read(file)) {
            // as `cp other w.safetensors` does: the same inode, truncated and rewritten shorter
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(new byte[100]));
            }
            try (Tensor sum = c.tensors().get("w").sum()) { // a mapping would die with SIGBUS here
                assertEquals(1 << 16, sum.item());
            }
        }
    }

    @Test
    void aFileThatShrinksWhileBeingReadGivesAnException() throws IOException {
        Path file = dir.resolve("s.safetensors");
        try (Tensor a = Tensor.ones(1024); Tensor b = Tensor.ones(1024)) {
            Safetensors.save(file, Map.of("a", a, "b", b));
        }
        try (WeightSource src = Safetensors.index(file)) { // what read does, a tensor at a time
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(Files.size(file) - 4096);
            }
            CheckpointException e = assertThrows(CheckpointException.class, () -> {
                for (String k : src.keys()) src.take(k, dev.dit4j.nn.DType.FLOAT32, dev.dit4j.nn.Device.CPU).close();
            });
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("the file ends at byte"), e.getMessage());
        }
    }

    // ---- 6. messages ---------------------------------------------------------------------------

    @Test
    void anUnwritableOutputSaysWhyInWords() throws IOException {
        Path out = Path.of("/proc/nope/o.safetensors");
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc")), "a /proc to fail in");
        CheckpointException e;
        try (Tensor t = Tensor.ones(1)) {
            e = assertThrows(CheckpointException.class, () -> Safetensors.save(out, Map.of("w", t)));
        }
        String m = e.getMessage();
        assertTrue(m.startsWith("cannot write /proc/nope/o.safetensors: cannot create its folder /proc/nope: "), m);
        assertFalse(m.endsWith(": /proc/nope"), "a reason, not a path: " + m);
        Path file = Files.writeString(dir.resolve("plain"), "x");
        try (Tensor t = Tensor.ones(1)) {
            e = assertThrows(CheckpointException.class, () -> Safetensors.save(file.resolve("o.safetensors"), Map.of("w", t)));
        }
        assertTrue(e.getMessage().contains("cannot create its folder " + file), e.getMessage());
    }

    @Test
    void inputFilesRefuseSpecialFilesAndBoundSizes() throws Exception {
        Path fifo = dir.resolve("captions.txt");
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo is available");
        var e = assertThrows(InputFiles.InputFileException.class, () -> InputFiles.readLines(fifo, "caption file", 1 << 20, 100));
        assertEquals("caption file " + fifo + " is a FIFO (named pipe), not a regular file", e.getMessage());
        Path big = Files.write(dir.resolve("big.txt"), new byte[2048]);
        e = assertThrows(InputFiles.InputFileException.class, () -> InputFiles.readBytes(big, "settings file", 1024));
        assertEquals("settings file " + big + " is too large: 2.0 KiB, the limit is 1.0 KiB", e.getMessage());
        Path lines = Files.writeString(dir.resolve("lines.txt"), "ab\r\ncd\n\nef");
        assertEquals(List.of("ab", "cd", "", "ef"), InputFiles.readLines(lines, "caption file", 1024, 10));
        e = assertThrows(InputFiles.InputFileException.class, () -> InputFiles.readLines(lines, "caption file", 1024, 1));
        assertEquals("caption file " + lines + ", line 1: longer than 1 characters", e.getMessage());
        e = assertThrows(InputFiles.InputFileException.class, () -> InputFiles.readLines(dir.resolve("none"), "caption file", 1024, 1));
        assertEquals("cannot read caption file " + dir.resolve("none") + ": no such file", e.getMessage());
    }

    @Test
    void missingAndUnreadableFilesAreNamedOnceWithTheReasonInWords() throws IOException {
        rejectedByAll(dir.resolve("absent.safetensors"), "no such file");
        assertEquals("permission denied", CheckpointFiles.reason(new AccessDeniedException(dir.toString())));
        Path secret = dir.resolve("secret.safetensors");
        try (Tensor t = Tensor.ones(1)) {
            Safetensors.save(secret, Map.of("w", t));
        }
        Files.setPosixFilePermissions(secret, Collections.emptySet());
        Assumptions.assumeFalse(Files.isReadable(secret), "not running as root");
        rejectedByAll(secret, "permission denied");
    }

    @Test
    void overflowingSizesNameTheField() throws IOException {
        assertOverflow(torchFile(new Ops().floatTensor("0", 1L << 62, 4).stop(), floats(1, 2, 3, 4)), "storage '0'", "overflows 64 bits");
        Ops view = new Ops().rebuildOpen("0", 4).integer(0).op('(').integer(1L << 62).integer(4).op('t', '(').integer(4).integer(1).op('t');
        assertOverflow(torchFile(view.rebuildClose().stop(), floats(1, 2, 3, 4)), "size [4611686018427387904, 4]", "overflow 64-bit");
    }

    private static void assertOverflow(Path file, String... words) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.read(file));
        assertFalse(e.getMessage().contains("long overflow"), e.getMessage());
        for (String w : words) assertTrue(e.getMessage().contains(w), "mentions '" + w + "': " + e.getMessage());
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private Path torchFile(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        return write("hostile.pt", checkpointBytes(pickle, storages));
    }

    private static Map<String, byte[]> floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return Map.of("0", b.array());
    }

    /** Raw pickle opcodes, for what PickleWriter never writes: memo sharing, deep nesting, odd calls. */
    private static final class Ops {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Ops() {
            op(0x80, 2);
        }

        Ops op(int... bytes) {
            for (int x : bytes) b.write(x);
            return this;
        }

        Ops le4(int v) {
            return op(v, v >>> 8, v >>> 16, v >>> 24);
        }

        Ops put(int i) {
            return op('r').le4(i); // LONG_BINPUT
        }

        Ops get(int i) {
            return op('j').le4(i); // LONG_BINGET
        }

        Ops str(String s) {
            byte[] u = s.getBytes(StandardCharsets.UTF_8);
            op('X').le4(u.length);
            b.writeBytes(u);
            return this;
        }

        Ops integer(long v) {
            if (v == (int) v) return op('J').le4((int) v);
            op(0x8a, 8); // LONG1 of 8 bytes
            for (int i = 0; i < 8; i++) b.write((int) (v >>> (8 * i)));
            return this;
        }

        Ops global(String module, String name) {
            b.writeBytes(("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        /** L = []; then L = [L, L] n times, as pickle.dumps writes it: outermost first, level i memoised at i. */
        Ops sharedLists(int n) {
            for (int i = n; i > 0; i--) op(']').put(i).op('('); // each list's first item is the next one
            op(']').put(0);
            for (int i = 1; i <= n; i++) get(i - 1).op('e'); // its second item: the same list again
            return this;
        }

        /** [[[...]]] n deep, with no memo. */
        Ops deepLists(int n) {
            for (int i = 0; i < n; i++) op(']');
            for (int i = 1; i < n; i++) op('a');
            return this;
        }

        /** _rebuild_tensor_v2( MARK (storage key of numel floats), left open for the offset, size and stride. */
        Ops rebuildOpen(String key, long numel) {
            global("torch._utils", "_rebuild_tensor_v2").op('(', '(').str("storage").global("torch", "FloatStorage").str(key).str("cpu");
            return integer(numel).op('t', 'Q');
        }

        /** requires_grad=False, backward_hooks=OrderedDict(), then the call. */
        Ops rebuildClose() {
            op(0x89).global("collections", "OrderedDict").op(')', 'R');
            return op('t', 'R');
        }

        /** A 1-d float tensor of size elements over the whole storage. */
        Ops floatTensor(String key, long numel, long size) {
            return rebuildOpen(key, numel).integer(0).op('(').integer(size).op('t', '(').integer(1).op('t').rebuildClose();
        }

        byte[] stop() {
            return op('.').b.toByteArray();
        }
    }
}
