package dev.dit4j.nn.io;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafetensorsTest extends FileTestSupport {
    @Test
    void roundTripKeepsNamesShapesDtypesValuesAndMetadata() {
        Path file = dir.resolve("w.safetensors");
        try (TensorScope s = TensorScope.open()) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put("blocks.0.attn.qkv.weight", Tensor.randn(3, 4));
            in.put("half", Tensor.randn(5).to(DType.BFLOAT16));
            in.put("ids", Tensor.of(new long[] {1, 2, 3}, 3));
            in.put("flag", Tensor.of(new boolean[] {true, false}, 2));
            in.put("scalar", Tensor.scalar(2.5));
            in.put("empty", Tensor.zeros(0, 3));
            in.put("noncontiguous", Tensor.randn(4, 2).transpose(0, 1));
            Safetensors.save(file, in, Map.of("format", "pt"));
            try (Safetensors.Contents out = Safetensors.read(file)) {
                assertEquals(List.copyOf(in.keySet()), List.copyOf(out.tensors().keySet()));
                assertEquals("pt", out.metadata().get("format"));
                for (String k : in.keySet()) {
                    Tensor a = in.get(k);
                    Tensor b = out.tensors().get(k);
                    assertArrayEquals(a.shape(), b.shape(), k);
                    assertEquals(a.dtype(), b.dtype(), k);
                    assertArrayEquals(a.toDoubleArray(), b.toDoubleArray(), k);
                }
            }
        }
    }

    @Test
    void concatenatedPartsEqualTheirCatAndMismatchedPartsAreRefused() {
        Path file = dir.resolve("joined.safetensors");
        try (TensorScope s = TensorScope.open()) {
            List<Tensor> parts = List.of(Tensor.randn(2, 3, 4), Tensor.randn(1, 3, 4), Tensor.randn(3, 4, 3).transpose(1, 2));
            Safetensors.saveConcatenated(file, Map.of("x", parts), Map.of("count", "6"));
            try (Safetensors.Contents out = Safetensors.read(file)) {
                Tensor x = out.tensors().get("x");
                assertArrayEquals(new long[] {6, 3, 4}, x.shape());
                assertArrayEquals(Tensor.cat(parts, 0).toDoubleArray(), x.toDoubleArray());
                assertEquals("6", out.metadata().get("count"));
            }
            var e = assertThrows(IllegalArgumentException.class, () -> Safetensors.saveConcatenated(dir.resolve("bad.safetensors"),
                    Map.of("x", List.of(Tensor.randn(2, 3), Tensor.randn(2, 4))), Map.of()));
            assertTrue(e.getMessage().contains("'x' part 1") && e.getMessage().contains("[2, 4]"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("bad.safetensors")));
        }
    }

    @Test
    void mappedTensorsViewTheFileAndWritesStayPrivate() throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Tensor t = Tensor.ones(1024)) {
            Safetensors.save(file, Map.of("w", t));
        }
        byte[] before = Files.readAllBytes(file);
        try (Safetensors.Contents c = Safetensors.map(file)) {
            Tensor w = c.tensors().get("w");
            w.mul_(3); // in place on the mapped tensor: copy-on-write, the file is untouched
            try (Tensor sum = w.sum()) {
                assertEquals(3 * 1024, sum.item());
            }
        }
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void mappedTensorsOutliveTheLoaderUntilClosed() {
        Path file = dir.resolve("k.safetensors");
        try (Tensor t = Tensor.arange(0, 6, 1, DType.FLOAT32, Device.CPU)) {
            Safetensors.save(file, Map.of("a", t, "b", t));
        }
        Map<String, Tensor> loaded = Safetensors.map(file).tensors();
        Tensor a = loaded.remove("a");
        loaded.values().forEach(Tensor::close);
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, a.toFloatArray(), "the mapping stays while any tensor uses it");
        a.close();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** A safetensors file with this header and dataBytes zero bytes of data. */
    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    private void rejects(Path file, String... words) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Safetensors.load(file));
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        for (String w : words) assertTrue(e.getMessage().contains(w), "mentions '" + w + "': " + e.getMessage());
    }

    @Test
    void corruptTruncatedAndHostileFilesGiveClearErrors() throws IOException {
        rejects(write("short", new byte[3]), "too short");
        byte[] lying = file("{}", 0);
        ByteBuffer.wrap(lying).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        rejects(write("lying", lying), "declares a header");
        rejects(write("badjson", file("{\"a\": [1, 2", 0)), "malformed JSON");
        rejects(write("notobject", file("[1, 2]", 0)), "not a JSON object");
        rejects(write("truncated", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)), "truncated", "'w'");
        rejects(write("mismatch", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)), "'w'", "12");
        rejects(write("dtype", file("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8)), "C64");
        rejects(write("negative", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 8)), "shape");
        rejects(write("missing", file("{\"w\":{\"dtype\":\"F32\"}}", 8)), "'w'");
        rejects(write("overflow", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 8)), "shape");
        assertThrows(CheckpointException.class, () -> Safetensors.load(dir.resolve("absent.safetensors")));
    }

    @Test
    void saveIsAtomic() throws IOException {
        Path file = dir.resolve("a.safetensors");
        try (Tensor t = Tensor.ones(2)) {
            Safetensors.save(file, Map.of("x", t));
            Safetensors.save(file, Map.of("x", t, "y", t));
        }
        try (var s = Files.list(dir)) {
            assertEquals(List.of("a.safetensors"), s.map(p -> p.getFileName().toString()).toList(), "no temporary files left");
        }
        try (Safetensors.Contents c = Safetensors.read(file)) {
            assertEquals(2, c.tensors().size());
        }
    }

    @Test
    void savedFilesHaveTheUsualPermissionsAndKeepTheirOwn() throws IOException {
        Path file = dir.resolve("p.safetensors");
        try (Tensor t = Tensor.ones(2)) {
            Safetensors.save(file, Map.of("x", t));
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----"));
            Safetensors.save(file, Map.of("x", t));
            assertEquals("rw-rw----", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
    }

    @Test
    void indexReadsEachTensorIntoMemoryOfItsOwn() throws IOException {
        Path file = dir.resolve("i.safetensors");
        try (Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2); Tensor b = Tensor.of(new long[] {7, 8}, 2)) {
            Safetensors.save(file, Map.of("a", a, "b", b));
            try (WeightSource src = Safetensors.index(file)) {
                assertEquals(java.util.Set.of("a", "b"), src.keys());
                assertArrayEquals(new long[] {2, 2}, src.shape("a"));
                assertNull(src.shape("c"));
                try (Tensor ra = src.take("a", DType.FLOAT64, Device.CPU); Tensor rb = src.take("b", DType.INT64, Device.CPU)) {
                    Files.write(file, new byte[] {0}); // the file changes under a loaded tensor: nothing maps it
                    assertArrayEquals(new double[] {1, 2, 3, 4}, ra.toDoubleArray());
                    assertArrayEquals(new long[] {7, 8}, rb.toLongArray());
                }
            }
        }
        assertThrows(CheckpointException.class, () -> Safetensors.index(file), "a file too short for a header");
    }
}
