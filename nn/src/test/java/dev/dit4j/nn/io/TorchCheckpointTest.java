package dev.dit4j.nn.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

/** Fixtures in resources/pt are made by real PyTorch: see src/test/python/make_pt_fixtures.py. */
class TorchCheckpointTest extends FileTestSupport {
    // ---- files written by torch.save --------------------------------------------------------

    @Test
    void readsAStateDictWithEveryDtypeAndSharedStridedViews() throws Exception {
        Map<String, Tensor> sd = TorchCheckpoint.readStateDict(fixture("state_dict.pt"));
        try (Safetensors.Contents expected = Safetensors.read(fixture("state_dict.safetensors"))) {
            assertEquals(List.of("w", "w_t", "w_row", "w_col", "grid_slice", "f64", "f16", "bf16", "i64", "i32", "i16", "i8",
                    "u8", "mask", "scalar", "empty", "param"), List.copyOf(sd.keySet()));
            assertEquals(expected.tensors().keySet(), sd.keySet());
            for (String k : sd.keySet()) assertSameTensor(expected.tensors().get(k), sd.get(k), k);
            assertEquals(DType.BFLOAT16, sd.get("bf16").dtype());
            assertArrayEquals(new long[0], sd.get("scalar").shape());
            assertEquals(2.5, sd.get("scalar").item());
            assertArrayEquals(new long[] {0, 3}, sd.get("empty").shape());
            assertArrayEquals(new long[] {-(1L << 40), -1, 0, 7}, sd.get("i64").toLongArray());
        } finally {
            TorchCheckpoint.closeTensors(sd);
        }
    }

    @Test
    void readsATrainingCheckpoint() throws Exception {
        Object root = TorchCheckpoint.read(fixture("checkpoint.pt"));
        try (Safetensors.Contents expected = Safetensors.read(fixture("checkpoint.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            flatten(root, "", tensors);
            assertEquals(expected.tensors().keySet(), tensors.keySet());
            for (String k : tensors.keySet()) assertSameTensor(expected.tensors().get(k), tensors.get(k), k);

            Map<?, ?> ckpt = (Map<?, ?>) root;
            assertEquals(12L, ckpt.get("step"));
            assertEquals(Set.of("a", "b"), ckpt.get("tags"));
            assertEquals(List.of(2L, 3L), ckpt.get("shape"));
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("model", "DiT-XL/2");
            args.put("image_size", 256L);
            args.put("lr", 1e-4);
            args.put("ckpt", null);
            args.put("flip", true);
            assertEquals(args, ckpt.get("args")); // an argparse.Namespace becomes its attributes

            Map<?, ?> opt = (Map<?, ?>) ckpt.get("opt");
            Map<?, ?> state = (Map<?, ?>) opt.get("state");
            assertEquals(Set.of(0L, 1L, 2L, 3L), state.keySet());
            assertEquals(1.0, ((Tensor) ((Map<?, ?>) state.get(0L)).get("step")).item());
            Map<?, ?> group = (Map<?, ?>) ((List<?>) opt.get("param_groups")).get(0);
            assertEquals(1e-4, group.get("lr"));
            assertEquals(List.of(0.9, 0.999), group.get("betas"));
            assertEquals(List.of(0L, 1L, 2L, 3L), group.get("params"));
            assertTrue(group.containsKey("foreach"));
            assertNull(group.get("foreach"));
            assertEquals(false, group.get("amsgrad"));
        } finally {
            TorchCheckpoint.closeTensors(root);
        }
    }

    @Test
    void readStateDictPicksOneEntryAndTheCallerOwnsItsTensors() throws Exception {
        Map<String, Tensor> ema;
        try (TensorScope scope = TensorScope.open()) {
            ema = TorchCheckpoint.readStateDict(fixture("checkpoint.pt"), "ema");
        }
        try (Safetensors.Contents expected = Safetensors.read(fixture("checkpoint.safetensors"))) {
            assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), List.copyOf(ema.keySet()));
            for (var e : ema.entrySet()) assertSameTensor(expected.tensors().get("ema." + e.getKey()), e.getValue(), e.getKey());
        } finally {
            TorchCheckpoint.closeTensors(ema);
        }
    }

    @Test
    void readStateDictRejectsACheckpointThatIsNotOne() throws Exception {
        Path file = fixture("checkpoint.pt");
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.readStateDict(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("not a state dict"), e.getMessage());
        assertThrows(CheckpointException.class, () -> TorchCheckpoint.readStateDict(file, "no-such-entry"));
    }

    // ---- files written by dit4j -------------------------------------------------------------

    @Test
    void writtenCheckpointsReadBackExactly() {
        Path file = dir.resolve("out.pt");
        try (TensorScope s = TensorScope.open()) {
            Map<String, Object> model = new LinkedHashMap<>();
            Tensor w = Tensor.randn(3, 4);
            model.put("w", w);
            model.put("w_t", w.transpose(0, 1));
            model.put("w_again", w); // one storage for both
            model.put("f64", Tensor.randn(2).to(DType.FLOAT64));
            model.put("f16", Tensor.randn(2).to(DType.FLOAT16));
            model.put("bf16", Tensor.randn(5).to(DType.BFLOAT16));
            model.put("ids", Tensor.of(new long[] {1, -2, 1L << 40}, 3));
            model.put("i32", Tensor.randn(2).mul(100).to(DType.INT32));
            model.put("i16", Tensor.randn(2).mul(100).to(DType.INT16));
            model.put("i8", Tensor.of(new byte[] {-5, 7}, 2).to(DType.INT8));
            model.put("u8", Tensor.of(new byte[] {-1, 7}, 2).to(DType.UINT8));
            model.put("flag", Tensor.of(new boolean[] {true, false}, 2));
            model.put("scalar", Tensor.scalar(2.5));
            model.put("empty", Tensor.zeros(0, 3));
            Map<String, Object> group = new LinkedHashMap<>();
            group.put("lr", 1e-4);
            group.put("params", List.of(0));
            group.put("betas", List.of(0.9, 0.999f));
            group.put("foreach", null);
            Map<String, Object> contents = new LinkedHashMap<>();
            contents.put("model", model);
            contents.put("opt", Map.of("state", Map.of(0, Map.of("step", Tensor.scalar(3))), "param_groups", List.of(group)));
            contents.put("step", 12);
            contents.put("big", 1L << 40);
            contents.put("negative", -70000);
            contents.put("name", "DiT-XL/2 ✓");
            contents.put("flip", true);
            TorchCheckpoint.write(file, contents);

            Object back = TorchCheckpoint.read(file);
            try {
                Map<?, ?> root = (Map<?, ?>) back;
                Map<?, ?> m = (Map<?, ?>) root.get("model");
                assertEquals(model.keySet(), m.keySet());
                for (String k : model.keySet()) assertSameTensor((Tensor) model.get(k), (Tensor) m.get(k), k);
                assertEquals(12L, root.get("step"));
                assertEquals(1L << 40, root.get("big"));
                assertEquals(-70000L, root.get("negative"));
                assertEquals("DiT-XL/2 ✓", root.get("name"));
                assertEquals(true, root.get("flip"));
                Map<?, ?> opt = (Map<?, ?>) root.get("opt");
                Map<?, ?> g = (Map<?, ?>) ((List<?>) opt.get("param_groups")).get(0);
                assertEquals(Arrays.asList(1e-4, List.of(0L), List.of(0.9, (double) 0.999f), null), new ArrayList<>(g.values()));
                Map<?, ?> st = (Map<?, ?>) ((Map<?, ?>) opt.get("state")).get(0L);
                assertEquals(3.0, ((Tensor) st.get("step")).item());
            } finally {
                TorchCheckpoint.closeTensors(back);
            }
        }
    }

    @Test
    void writtenFilesAreStoredAlignedAndReproducible() throws IOException {
        Path a = dir.resolve("a.pt");
        Path b = dir.resolve("b.pt");
        try (Tensor w = Tensor.arange(0, 100, 1, DType.FLOAT32, Device.CPU); Tensor v = Tensor.ones(7)) {
            TorchCheckpoint.write(a, Map.of("w", w, "v", v));
            TorchCheckpoint.write(b, Map.of("w", w, "v", v));
        }
        byte[] bytes = Files.readAllBytes(a);
        assertArrayEquals(bytes, Files.readAllBytes(b));
        try (ZipFile zip = new ZipFile(a.toFile())) {
            List<String> names = zip.stream().map(ZipEntry::getName).toList();
            assertEquals(List.of("archive/data.pkl", "archive/byteorder", "archive/data/0", "archive/data/1", "archive/version"), names);
            zip.stream().forEach(e -> assertEquals(ZipEntry.STORED, e.getMethod(), e.getName()));
        }
        // walk the local headers: every entry's data starts on a 64-byte boundary
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int entries = 0;
        for (int pos = 0; buf.getInt(pos) == 0x04034b50; entries++) {
            int data = pos + 30 + (buf.getShort(pos + 26) & 0xFFFF) + (buf.getShort(pos + 28) & 0xFFFF);
            assertEquals(0, data % 64, "entry " + entries);
            pos = data + buf.getInt(pos + 18);
        }
        assertEquals(5, entries);
    }

    @Test
    void writeRejectsValuesItCannotSave() {
        Path file = dir.resolve("bad.pt");
        var e = assertThrows(IllegalArgumentException.class, () -> TorchCheckpoint.write(file, Map.of("x", Map.of("y", new Object()))));
        assertTrue(e.getMessage().contains("contents.x.y"), e.getMessage());
        List<Object> loop = new ArrayList<>();
        loop.add(loop);
        assertThrows(IllegalArgumentException.class, () -> TorchCheckpoint.write(file, Map.of("loop", loop)));
        assertFalse(Files.exists(file));
    }

    // ---- hostile and malformed files --------------------------------------------------------

    @Test
    void truncatedFilesFailCleanly() throws Exception {
        byte[] good = Files.readAllBytes(fixture("state_dict.pt"));
        for (int len : new int[] {0, 3, 4, 100, good.length / 2, good.length - 23, good.length - 1}) {
            Path file = write("truncated.pt", Arrays.copyOf(good, len));
            assertRejected(file, null);
        }
    }

    @Test
    void corruptBytesAnywhereFailCleanlyOrLoad() throws Exception {
        byte[] good = Files.readAllBytes(fixture("state_dict.pt"));
        for (int i = 0; i < good.length; i += 7) {
            byte[] bad = good.clone();
            bad[i] ^= 0x5A;
            Path file = write("corrupt.pt", bad);
            try {
                TorchCheckpoint.closeTensors(TorchCheckpoint.read(file)); // some bytes (timestamps, ids) do not matter
            } catch (CheckpointException e) {
                assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
            }
        }
    }

    @Test
    void rejectsDisallowedGlobals() throws IOException {
        PickleWriter p = new PickleWriter();
        p.global("os", "system");
        p.mark();
        p.string("echo pwned");
        p.tuple();
        p.reduce();
        assertRejected(checkpoint(p.finish(), Map.of()), "os.system");
        PickleWriter q = new PickleWriter();
        q.global("torch", "load");
        assertRejected(checkpoint(q.finish(), Map.of()), "torch.load");
    }

    /** Composer's checkpoints hold timedeltas, numpy arrays and protocol-2 bytes beside tensors: kept as data, never made. */
    @Test
    void readsPlainPythonValuesAsData() throws IOException {
        PickleWriter p = new PickleWriter();
        p.mark();
        p.global("datetime", "timedelta");
        p.mark();
        p.integer(0);
        p.integer(1234);
        p.integer(5678);
        p.tuple();
        p.reduce();
        p.global("_codecs", "encode");
        p.mark();
        p.string("\u00ffab");
        p.string("latin1");
        p.tuple();
        p.reduce();
        p.tuple();
        List<?> values = (List<?>) TorchCheckpoint.read(checkpoint(p.finish(), Map.of()));
        assertEquals(new PythonObject("datetime.timedelta", List.of(0L, 1234L, 5678L), null), values.get(0));
        assertArrayEquals(new byte[] {(byte) 0xFF, 'a', 'b'}, (byte[]) values.get(1));

        PickleWriter utf8 = new PickleWriter();
        utf8.global("_codecs", "encode");
        utf8.mark();
        utf8.string("x");
        utf8.string("utf-8");
        utf8.tuple();
        utf8.reduce();
        assertRejected(checkpoint(utf8.finish(), Map.of()), "(text, 'latin1')");
        PickleWriter bare = new PickleWriter();
        bare.global("numpy", "ndarray");
        bare.global("os", "system");
        assertRejected(checkpoint(bare.finish(), Map.of()), "os.system"); // data types do not open the door to other names
    }

    @Test
    void rejectsMalformedPickles() throws IOException {
        assertRejected(checkpoint(new byte[] {(byte) 0x80, 2, (byte) 0xFF, '.'}, Map.of()), "unknown or unsupported opcode 0xff");
        assertRejected(checkpoint(new byte[] {(byte) 0x80, 2, ']', 'X', (byte) 0xFF, (byte) 0xFF, 0x7F, 0x7F, 'a', '.'}, Map.of()),
                "truncated");
        assertRejected(checkpoint(new byte[] {(byte) 0x80, 2, 'h', 9, '.'}, Map.of()), "memo key 9");
        assertRejected(checkpoint(new byte[] {(byte) 0x80, 2, 'a', '.'}, Map.of()), "stack underflow");
        assertRejected(checkpoint(new byte[] {(byte) 0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'}, Map.of()), "cycle");
        assertRejected(checkpoint(new byte[] {(byte) 0x80, 2, '}', ']', ']', 's', '.'}, Map.of()), "dict key");
    }

    @Test
    void rejectsDeepNesting() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        int depth = 100_000;
        for (int i = 0; i < depth; i++) b.write(']');
        for (int i = 1; i < depth; i++) b.write('a');
        b.write('.');
        assertRejected(checkpoint(b.toByteArray(), Map.of()), "nested more than");
    }

    @Test
    void rejectsArchivesWithoutAPickle() throws IOException {
        assertRejected(zip(Map.of("archive/version", "3\n".getBytes())), "no data.pkl");
        assertRejected(write("text.pt", "not a checkpoint".getBytes()), "not a zip archive");
    }

    @Test
    void rejectsMissingShortOrOverreachingStorages() throws IOException {
        byte[] floats = new byte[16]; // 4 floats
        assertRejected(checkpoint(tensorPickle("0", 4, 0, new long[] {4}, new long[] {1}), Map.of()), "storage '0' is missing");
        assertRejected(checkpoint(tensorPickle("0", 8, 0, new long[] {8}, new long[] {1}), Map.of("0", floats)), "has 16 bytes");
        assertRejected(checkpoint(tensorPickle("0", 4, 1, new long[] {4}, new long[] {1}), Map.of("0", floats)), "reaches element 4");
        assertRejected(checkpoint(tensorPickle("0", 4, 0, new long[] {2, 2}, new long[] {3, 1}), Map.of("0", floats)), "reaches element 4");
        assertRejected(checkpoint(tensorPickle("0", 4, 0, new long[] {2}, new long[] {-1}), Map.of("0", floats)), "negative stride");
        // an expanded view (stride 0) claiming 2^62 elements: refused before allocating anything
        assertRejected(checkpoint(tensorPickle("0", 4, 0, new long[] {1L << 62}, new long[] {0}), Map.of("0", floats)), "bytes");
        assertRejected(checkpoint(tensorPickle("0", 1L << 60, 0, new long[] {4}, new long[] {1}), Map.of("0", floats)), "should hold");
    }

    @Test
    void readsHandMadeStridedAndExpandedViews() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) data.putFloat(i);
        Path file = checkpoint(tensorPickle("0", 6, 1, new long[] {2, 3}, new long[] {0, 2}), Map.of("0", data.array()));
        Object t = TorchCheckpoint.read(file);
        try {
            assertArrayEquals(new float[] {1, 3, 5, 1, 3, 5}, ((Tensor) t).toFloatArray());
        } finally {
            TorchCheckpoint.closeTensors(t);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(TorchCheckpointTest.class.getResource("/pt/" + name).toURI());
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    /** A torch.save-shaped archive holding this pickle and these storages. */
    private Path checkpoint(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        return write("hostile.pt", checkpointBytes(pickle, storages));
    }

    static byte[] checkpointBytes(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        storages.forEach((k, v) -> entries.put("archive/data/" + k, v));
        entries.put("archive/version", "3\n".getBytes());
        return zipBytes(entries);
    }

    private Path zip(Map<String, byte[]> entries) throws IOException {
        return write("hostile.pt", zipBytes(entries));
    }

    /** A zip archive (deflated entries) of these records. */
    static byte[] zipBytes(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A pickle of one float32 tensor over storage key with numel elements, viewed as described. */
    static byte[] tensorPickle(String key, long numel, long offset, long[] size, long[] stride) {
        PickleWriter p = new PickleWriter();
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.mark();
        p.mark();
        p.string("storage");
        p.global("torch", "FloatStorage");
        p.string(key);
        p.string("cuda:0");
        p.integer(numel);
        p.tuple();
        p.persistentId();
        p.integer(offset);
        p.mark();
        for (long s : size) p.integer(s);
        p.tuple();
        p.mark();
        for (long s : stride) p.integer(s);
        p.tuple();
        p.bool(false);
        p.global("collections", "OrderedDict");
        p.mark();
        p.tuple();
        p.reduce();
        p.tuple();
        p.reduce();
        return p.finish();
    }

    static void assertRejected(Path file, String problem) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.closeTensors(TorchCheckpoint.read(file)));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        if (problem != null) assertTrue(e.getMessage().contains(problem), e.getMessage());
    }

    private static void flatten(Object o, String prefix, Map<String, Tensor> out) {
        String dot = prefix.isEmpty() ? "" : prefix + ".";
        if (o instanceof Tensor t) {
            out.put(prefix, t);
        } else if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> flatten(v, dot + k, out));
        } else if (o instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) flatten(l.get(i), dot + i, out);
        }
    }

    /** Same shape, dtype and bytes. */
    private static void assertSameTensor(Tensor expected, Tensor actual, String key) {
        assertNotNull(actual, key);
        assertArrayEquals(expected.shape(), actual.shape(), key);
        assertEquals(expected.dtype(), actual.dtype(), key);
        try (Tensor a = expected.contiguous(); Tensor b = actual.contiguous()) {
            assertArrayEquals(bytes(a), bytes(b), key);
        }
    }

    private static byte[] bytes(Tensor t) {
        return t.numel() == 0 ? new byte[0] : t.asSegment().toArray(ValueLayout.JAVA_BYTE);
    }
}
