package dev.dit4j.nn.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Shapes;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw data. Files are memory-mapped copy-on-write
 * and tensors are created over the mapping without copying; it is unmapped once every tensor
 * loaded from it has been freed.
 */
public final class Safetensors {
    private static final long MAX_HEADER_BYTES = 100L << 20;

    private Safetensors() {}

    /** A loaded file: tensors by name (the caller owns and closes them) and the header's metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) implements AutoCloseable {
        @Override
        public void close() {
            tensors.values().forEach(Tensor::close);
        }
    }

    public static Map<String, Tensor> load(Path file) {
        return read(file).tensors();
    }

    public static Contents read(Path file) {
        Arena arena = Arena.ofShared();
        AtomicInteger users = new AtomicInteger(1); // this method holds one reference until it returns
        Runnable release = () -> {
            if (users.decrementAndGet() == 0) arena.close();
        };
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            MemorySegment all = mapCopyOnWrite(file, arena);
            long size = all.byteSize();
            if (size < 8) throw bad(file, "is " + size + " bytes long, too short for a safetensors header");
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw bad(file, "declares a header of " + headerLen + " bytes but the file has " + size
                        + " bytes: not a safetensors file, or truncated");
            }
            String json = new String(all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            JsonObject header = parseHeader(file, json);
            MemorySegment data = all.asSlice(8 + headerLen);
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) {
                    metadata.putAll(readMetadata(file, e.getValue()));
                    continue;
                }
                Tensor t = tensorAt(file, e.getKey(), e.getValue(), data, users, release);
                tensors.put(e.getKey(), t);
            }
            return new Contents(tensors, metadata);
        } catch (IOException e) {
            tensors.values().forEach(Tensor::close);
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            tensors.values().forEach(Tensor::close);
            throw e;
        } finally {
            release.run();
        }
    }

    /**
     * Maps the file copy-on-write, so that an in-place op on a loaded tensor changes private pages
     * and never the file (nor faults on a read-only page). A copy-on-write mapping needs a channel
     * open for writing; a read-only file is read into memory instead.
     */
    private static MemorySegment mapCopyOnWrite(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.PRIVATE, 0, ch.size(), arena);
        } catch (java.nio.file.FileSystemException e) {
            if (!java.nio.file.Files.isReadable(file)) throw e;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                MemorySegment copy = arena.allocate(Math.max(ch.size(), 1), 64).asSlice(0, ch.size());
                for (long pos = 0; pos < copy.byteSize(); ) {
                    int n = ch.read(copy.asSlice(pos, Math.min(1L << 30, copy.byteSize() - pos)).asByteBuffer(), pos);
                    if (n < 0) throw new IOException("unexpected end of file");
                    pos += n;
                }
                return copy;
            }
        }
    }

    private static JsonObject parseHeader(Path file, String json) {
        try {
            JsonElement root = JsonParser.parseString(json);
            if (!root.isJsonObject()) throw bad(file, "has a header that is not a JSON object");
            return root.getAsJsonObject();
        } catch (JsonParseException e) {
            throw bad(file, "has a malformed JSON header: " + e.getMessage());
        }
    }

    private static Map<String, String> readMetadata(Path file, JsonElement value) {
        Map<String, String> out = new LinkedHashMap<>();
        if (!value.isJsonObject()) throw bad(file, "has __metadata__ that is not an object");
        for (var m : value.getAsJsonObject().entrySet()) {
            if (!m.getValue().isJsonPrimitive()) throw bad(file, "has a non-string metadata value for '" + m.getKey() + "'");
            out.put(m.getKey(), m.getValue().getAsString());
        }
        return out;
    }

    /** One tensor's record in the header, checked against the data section's size. */
    private record Entry(DType dtype, long[] shape, long begin, long bytes) {}

    private static Entry entry(Path file, String key, JsonElement entry, long dataSize) {
        if (!entry.isJsonObject()) throw bad(file, "has an entry for '" + key + "' that is not an object");
        JsonObject o = entry.getAsJsonObject();
        DType dtype;
        long[] shape;
        long begin;
        long end;
        try {
            dtype = SafetensorsDType.parse(o.get("dtype").getAsString(), key);
        } catch (IllegalArgumentException e) {
            throw bad(file, e.getMessage());
        } catch (RuntimeException e) {
            throw bad(file, "has no valid dtype for '" + key + "': " + entry);
        }
        try {
            JsonArray dims = o.getAsJsonArray("shape");
            shape = new long[dims.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = dims.get(i).getAsLong();
            JsonArray offsets = o.getAsJsonArray("data_offsets");
            if (offsets.size() != 2) throw bad(file, "has data_offsets for '" + key + "' that are not [begin, end]");
            begin = offsets.get(0).getAsLong();
            end = offsets.get(1).getAsLong();
        } catch (NullPointerException | IllegalStateException | ClassCastException | UnsupportedOperationException
                 | NumberFormatException e) {
            throw bad(file, "has an invalid entry for '" + key + "' (needs dtype, shape and data_offsets): " + entry);
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Shapes.numel(shape), dtype.byteSize());
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw bad(file, "has an invalid shape for '" + key + "': " + o.get("shape"));
        }
        if (begin < 0 || end < begin || end > dataSize) {
            throw bad(file, "is truncated or corrupt: tensor '" + key + "' spans bytes [" + begin + ", " + end
                    + ") but the data section has " + dataSize + " bytes");
        }
        if (end - begin != bytes) {
            throw bad(file, "has tensor '" + key + "' of " + (end - begin) + " bytes but its shape and dtype need " + bytes);
        }
        return new Entry(dtype, shape, begin, bytes);
    }

    private static Tensor tensorAt(Path file, String key, JsonElement json, MemorySegment data, AtomicInteger users,
                                   Runnable release) {
        Entry e = entry(file, key, json, data.byteSize());
        MemorySegment slice = data.asSlice(e.begin(), e.bytes());
        if (slice.address() % e.dtype().byteSize() != 0 || e.bytes() == 0) {
            // unaligned data cannot be viewed in place: copy it
            Tensor t = Tensor.empty(e.shape(), e.dtype(), Device.CPU);
            MemorySegment.copy(slice, 0, t.asSegment(), 0, e.bytes());
            return TensorScope.release(t);
        }
        users.incrementAndGet();
        try {
            return TensorScope.release(Tensor.wrap(slice, e.dtype(), release, e.shape()));
        } catch (RuntimeException ex) {
            release.run();
            throw ex;
        }
    }

    /**
     * Opens {@code file} as a {@link WeightSource}: the header is read and checked now, each
     * tensor is read from the file into memory of its own when it is taken (no mapping stays
     * behind, so later changes to the file cannot reach a loaded model).
     */
    public static WeightSource index(Path file) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            long size = ch.size();
            if (size < 8) throw bad(file, "is " + size + " bytes long, too short for a safetensors header");
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0);
            long headerLen = len.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw bad(file, "declares a header of " + headerLen + " bytes but the file has " + size
                        + " bytes: not a safetensors file, or truncated");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonObject json = parseHeader(file, new String(header.array(), StandardCharsets.UTF_8));
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : json.entrySet()) {
                if (!e.getKey().equals("__metadata__")) entries.put(e.getKey(), entry(file, e.getKey(), e.getValue(), size - 8 - headerLen));
            }
            return new Index(file, ch, 8 + headerLen, entries);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private record Index(Path file, FileChannel ch, long dataStart, Map<String, Entry> entries) implements WeightSource {
        @Override
        public java.util.Set<String> keys() {
            return java.util.Collections.unmodifiableSet(entries.keySet());
        }

        @Override
        public long[] shape(String key) {
            Entry e = entries.get(key);
            return e == null ? null : e.shape().clone();
        }

        @Override
        public Tensor take(String key, DType dtype, Device device) {
            Entry e = entries.get(key);
            if (e == null) throw new IllegalArgumentException(describe() + " has no tensor '" + key + "'");
            Tensor raw = TensorScope.release(Tensor.empty(e.shape(), e.dtype(), Device.CPU));
            try {
                MemorySegment target = raw.asSegment();
                for (long pos = 0; pos < e.bytes(); pos += 1L << 30) {
                    long n = Math.min(1L << 30, e.bytes() - pos);
                    readFully(ch, target.asSlice(pos, n).asByteBuffer(), dataStart + e.begin() + pos);
                }
                if (e.dtype() == dtype && device.equals(Device.CPU)) return raw;
                Tensor converted = TensorScope.release(raw.to(device, dtype));
                raw.close();
                return converted;
            } catch (IOException ex) {
                raw.close();
                throw new CheckpointException("cannot read tensor '" + key + "' of " + file + ": " + ex.getMessage(), ex);
            } catch (RuntimeException ex) {
                raw.close();
                throw ex;
            }
        }

        @Override
        public String describe() {
            return "safetensors file " + file;
        }

        @Override
        public void close() {
            closeQuietly(ch);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position);
            if (n < 0) throw new IOException("unexpected end of file");
            position += n;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was written through it
        }
    }

    private static CheckpointException bad(Path file, String what) {
        return new CheckpointException("safetensors file " + file + " " + what);
    }

    public static void save(Path file, Map<String, Tensor> tensors) {
        save(file, tensors, Map.of());
    }

    /** Writes tensors (any device; copied to CPU) atomically: a crash leaves the old file or the new one. */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        Map<String, Tensor> host = new LinkedHashMap<>();
        try (TensorScope scope = TensorScope.open()) {
            for (var e : tensors.entrySet()) {
                Tensor t = e.getValue().detach().to(Device.CPU).contiguous();
                host.put(e.getKey(), t);
                long bytes = t.numel() * t.dtype().byteSize();
                JsonObject entry = new JsonObject();
                entry.addProperty("dtype", SafetensorsDType.name(t.dtype()));
                JsonArray shape = new JsonArray();
                for (long s : t.shape()) shape.add(s);
                entry.add("shape", shape);
                JsonArray offsets = new JsonArray();
                offsets.add(offset);
                offsets.add(offset + bytes);
                entry.add("data_offsets", offsets);
                header.add(e.getKey(), entry);
                offset += bytes;
            }
            byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
            int padded = (json.length + 7) / 8 * 8; // keeps the data 8-byte aligned
            ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            head.flip();
            AtomicFiles.write(file, ch -> {
                writeFully(ch, head);
                for (Tensor t : host.values()) {
                    if (t.numel() > 0) writeSegment(ch, t.asSegment());
                }
            });
        }
    }

    static void writeSegment(FileChannel ch, MemorySegment seg) throws IOException {
        long chunk = 1L << 30;
        for (long pos = 0; pos < seg.byteSize(); pos += chunk) {
            writeFully(ch, seg.asSlice(pos, Math.min(chunk, seg.byteSize() - pos)).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }
}
