package dev.dit4j.nn.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Shapes;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.EOFException;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw data. The header is checked as the
 * safetensors library checks it (no duplicate keys; byte ranges that tile the data section
 * exactly). {@link #read} and {@link #index} copy tensors into memory of their own, so a loaded
 * model never depends on the file; {@link #map} views the file in place, for callers that accept
 * its hazard.
 */
public final class Safetensors {
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final int MAX_DIMS = 64;
    private static final String METADATA = "__metadata__";

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

    /**
     * Reads every tensor into memory of its own, one at a time (see {@link #index}): the file may
     * be overwritten or deleted afterwards, and a file that shrinks while it is read gives a
     * {@link CheckpointException}.
     */
    public static Contents read(Path file) {
        try (Index src = open(file)) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            try {
                for (var e : src.header().entries().entrySet()) tensors.put(e.getKey(), src.take(e.getKey(), e.getValue().dtype(), Device.CPU));
            } catch (RuntimeException e) {
                tensors.values().forEach(Tensor::close);
                throw e;
            }
            return new Contents(tensors, src.header().metadata());
        }
    }

    /**
     * Memory-maps the file copy-on-write and creates the tensors over the mapping without copying;
     * it is unmapped once every tensor has been freed. An in-place op on a tensor changes private
     * pages, never the file.
     *
     * <p><b>Hazard:</b> the tensors read the file's pages for as long as they live. If the file is
     * truncated or overwritten in place meanwhile (for example by {@code cp new.safetensors
     * w.safetensors}), touching a tensor kills the JVM with SIGBUS, or shows the new bytes. Use it
     * only for files nobody rewrites while they are in use (replace them by renaming, as
     * {@link #save} does); {@link #read} is the safe default.
     */
    public static Contents map(Path file) {
        CheckpointFiles.requireRegularFile(file, KIND);
        Arena arena = Arena.ofShared();
        AtomicInteger users = new AtomicInteger(1); // this method holds one reference until it returns
        Runnable release = () -> {
            if (users.decrementAndGet() == 0) arena.close();
        };
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            MemorySegment all = mapCopyOnWrite(file, arena);
            long headerLen = headerLength(file, all.byteSize(),
                    all.byteSize() < 8 ? 0 : all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
            MemorySegment data = all.asSlice(8 + headerLen);
            Header header = parseHeader(file, all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE), data.byteSize());
            for (var e : header.entries().entrySet()) tensors.put(e.getKey(), tensorAt(e.getValue(), data, users, release));
            return new Contents(tensors, header.metadata());
        } catch (IOException e) {
            tensors.values().forEach(Tensor::close);
            throw CheckpointFiles.cannotRead(file, KIND, e);
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
                for (long pos = 0; pos < copy.byteSize(); pos += 1L << 30) {
                    readFully(ch, copy.asSlice(pos, Math.min(1L << 30, copy.byteSize() - pos)).asByteBuffer(), pos);
                }
                return copy;
            }
        }
    }

    /** The declared header length, checked against the file's size. */
    private static long headerLength(Path file, long size, long headerLen) {
        if (size < 8) throw bad(file, "is " + size + " bytes long, too short for a safetensors header");
        if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
            throw bad(file, "declares a header of " + headerLen + " bytes but the file has " + size
                    + " bytes: not a safetensors file, or truncated");
        }
        return headerLen;
    }

    // ---- the header ---------------------------------------------------------------------------

    /** One tensor's record in the header: its bytes are [begin, begin + bytes) of the data section. */
    private record Entry(DType dtype, long[] shape, long begin, long bytes) {}

    private record Header(Map<String, Entry> entries, Map<String, String> metadata) {}

    /**
     * Parses the header with a streaming reader, so that a key given twice is seen (a JSON object
     * would keep the last), and checks that the tensors' byte ranges tile the data section.
     */
    private static Header parseHeader(Path file, byte[] utf8, long dataSize) {
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "has a header that is not valid UTF-8");
        }
        checkSyntax(file, json); // so that a syntax error is reported as one, wherever it is
        JsonReader r = strictReader(json);
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = null;
        try {
            if (r.peek() != JsonToken.BEGIN_OBJECT) throw bad(file, "has a header that is not a JSON object");
            r.beginObject();
            while (r.hasNext()) {
                String key = r.nextName();
                if (entries.containsKey(key) || (metadata != null && key.equals(METADATA))) {
                    throw bad(file, "has the key " + quote(key) + " twice in its header");
                }
                if (key.equals(METADATA)) metadata = readMetadata(file, r);
                else entries.put(key, readEntry(file, key, r));
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) throw bad(file, "has more than one JSON value in its header");
        } catch (IOException | IllegalStateException e) {
            throw malformed(file, r); // checkSyntax let it through, so this is not expected
        }
        checkLayout(file, entries, dataSize);
        return new Header(entries, metadata == null ? new LinkedHashMap<>() : metadata);
    }

    private static JsonReader strictReader(String json) {
        JsonReader r = new JsonReader(new StringReader(json));
        r.setStrictness(Strictness.STRICT);
        return r;
    }

    /** One pass over the whole header as plain JSON: a single value, strictly formed. */
    private static void checkSyntax(Path file, String json) {
        JsonReader r = strictReader(json);
        try {
            r.skipValue();
            if (r.peek() != JsonToken.END_DOCUMENT) throw bad(file, "has more than one JSON value in its header");
        } catch (IOException | IllegalStateException e) {
            throw malformed(file, r);
        }
    }

    /** Gson's own message would advise "setStrictness(LENIENT)": say where, in our words. */
    private static CheckpointException malformed(Path file, JsonReader r) {
        return bad(file, "has a malformed JSON header (" + r.toString().replaceFirst("^JsonReader\\s*", "") + ")");
    }

    private static Map<String, String> readMetadata(Path file, JsonReader r) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) throw bad(file, "has __metadata__ that is not an object");
        Map<String, String> out = new LinkedHashMap<>();
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            if (r.peek() != JsonToken.STRING) throw bad(file, "has a non-string metadata value for " + quote(key));
            if (out.put(key, r.nextString()) != null) throw bad(file, "has the metadata key " + quote(key) + " twice");
        }
        r.endObject();
        return out;
    }

    private static Entry readEntry(Path file, String key, JsonReader r) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) throw bad(file, "has an entry for " + quote(key) + " that is not an object");
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> fields = new HashSet<>();
        r.beginObject();
        while (r.hasNext()) {
            String field = r.nextName();
            if (!fields.add(field)) throw bad(file, "has the field " + quote(field) + " twice for tensor " + quote(key));
            switch (field) {
                case "dtype" -> {
                    if (r.peek() != JsonToken.STRING) throw bad(file, "has a dtype for " + quote(key) + " that is not a string");
                    dtypeName = r.nextString();
                }
                case "shape" -> shape = integers(file, key, "shape", r, MAX_DIMS);
                case "data_offsets" -> offsets = integers(file, key, "data_offsets", r, 2);
                default -> r.skipValue(); // as the safetensors library, ignore fields it does not know
            }
        }
        r.endObject();
        if (dtypeName == null || shape == null || offsets == null) {
            throw bad(file, "has an invalid entry for " + quote(key) + " (needs dtype, shape and data_offsets): no "
                    + (dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        if (offsets.length != 2) throw bad(file, "has data_offsets for " + quote(key) + " that are not [begin, end]");
        DType dtype;
        try {
            dtype = SafetensorsDType.parse(dtypeName, key);
        } catch (IllegalArgumentException e) {
            throw bad(file, "has tensor " + quote(key) + " of dtype " + quote(dtypeName) + ", which dit4j does not support");
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Shapes.numel(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw bad(file, "has a shape for " + quote(key) + " whose size in bytes overflows 64 bits: " + Arrays.toString(shape));
        }
        if (offsets[1] < offsets[0]) {
            throw bad(file, "has data_offsets for " + quote(key) + " that end (" + offsets[1] + ") before they begin (" + offsets[0] + ")");
        }
        if (offsets[1] - offsets[0] != bytes) {
            throw bad(file, "has tensor " + quote(key) + " of " + (offsets[1] - offsets[0]) + " bytes but its shape "
                    + Arrays.toString(shape) + " and dtype need " + bytes);
        }
        return new Entry(dtype, shape, offsets[0], bytes);
    }

    /** A JSON array of at most {@code max} integers in [0, 2^63): shape and data_offsets. */
    private static long[] integers(Path file, String key, String field, JsonReader r, int max) throws IOException {
        String what = field + " for " + quote(key);
        if (r.peek() != JsonToken.BEGIN_ARRAY) throw bad(file, "has " + what + " that is not an array of integers");
        long[] out = new long[max];
        int n = 0;
        r.beginArray();
        while (r.hasNext()) {
            if (n == max) {
                throw bad(file, "has " + what + (field.equals("shape") ? " with more than " + max + " dimensions" : " that are not [begin, end]"));
            }
            if (r.peek() != JsonToken.NUMBER) throw bad(file, "has " + what + " whose item " + n + " is not a number");
            String text = r.nextString(); // the literal: 1.5 or 2^64 must not be rounded or wrapped
            if (!text.matches("0|[1-9][0-9]*")) {
                throw bad(file, "has " + what + " whose item " + n + " is " + quote(text) + ", not a non-negative integer");
            }
            try {
                out[n++] = Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw bad(file, "has " + what + " whose item " + (n - 1) + " is " + quote(text) + ", more than 2^63 - 1");
            }
        }
        r.endArray();
        return Arrays.copyOf(out, n);
    }

    /**
     * As the safetensors library: sorted by begin, the ranges start at 0, each begins where the
     * previous ended, and the last ends where the data section does (no overlaps, gaps or slack).
     */
    private static void checkLayout(Path file, Map<String, Entry> entries, long dataSize) {
        List<Map.Entry<String, Entry>> sorted = new ArrayList<>(entries.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().bytes()));
        long at = 0;
        String previous = null;
        for (var e : sorted) {
            long begin = e.getValue().begin();
            if (begin != at) {
                throw bad(file, previous == null
                        ? "has data_offsets that do not start at 0: the first tensor, " + quote(e.getKey()) + ", begins at byte " + begin
                        : "has data_offsets that " + (begin < at ? "overlap" : "leave a gap") + ": tensor " + quote(e.getKey())
                                + " begins at byte " + begin + " but " + quote(previous) + " ends at byte " + at);
            }
            at = begin + e.getValue().bytes();
            previous = e.getKey();
        }
        if (at > dataSize) {
            throw bad(file, "is truncated or corrupt: tensor " + quote(previous) + " ends at byte " + at + " of the data section, which has "
                    + dataSize + " bytes");
        }
        if (at < dataSize) {
            throw bad(file, "has " + (dataSize - at) + " bytes after the end of its last tensor that no data_offsets cover (the data section has "
                    + dataSize + " bytes, the tensors " + at + ")");
        }
    }

    private static Tensor tensorAt(Entry e, MemorySegment data, AtomicInteger users, Runnable release) {
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

    // ---- reading tensor by tensor ----------------------------------------------------------------

    /**
     * Opens {@code file} as a {@link WeightSource}: the header is read and checked now, each
     * tensor is read from the file into memory of its own when it is taken (no mapping stays
     * behind, so later changes to the file cannot reach a loaded model).
     */
    public static WeightSource index(Path file) {
        return open(file);
    }

    private static Index open(Path file) {
        CheckpointFiles.requireRegularFile(file, KIND);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            long size = ch.size();
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (size >= 8) readFully(ch, len, 0);
            long headerLen = headerLength(file, size, len.getLong(0));
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            return new Index(file, ch, 8 + headerLen, parseHeader(file, header.array(), size - 8 - headerLen));
        } catch (IOException e) {
            closeQuietly(ch);
            throw CheckpointFiles.cannotRead(file, KIND, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private record Index(Path file, FileChannel ch, long dataStart, Header header) implements WeightSource {
        @Override
        public Map<String, String> metadata() {
            return java.util.Collections.unmodifiableMap(header.metadata());
        }

        @Override
        public java.util.Set<String> keys() {
            return java.util.Collections.unmodifiableSet(header.entries().keySet());
        }

        @Override
        public long[] shape(String key) {
            Entry e = header.entries().get(key);
            return e == null ? null : e.shape().clone();
        }

        @Override
        public Tensor take(String key, DType dtype, Device device) {
            Entry e = header.entries().get(key);
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
                throw new CheckpointException("cannot read tensor " + quote(key) + " of " + describe() + ": "
                        + CheckpointFiles.reason(ex), ex);
            } catch (RuntimeException ex) {
                raw.close();
                throw ex;
            }
        }

        @Override
        public String describe() {
            return KIND + " " + file;
        }

        @Override
        public void close() {
            closeQuietly(ch);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position);
            if (n < 0) throw new EOFException("the file ends at byte " + position + " (was it changed while being read?)");
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

    private static final String KIND = "safetensors file";

    private static CheckpointException bad(Path file, String what) {
        return new CheckpointException(KIND + " " + file + " " + what);
    }

    private static String quote(String untrusted) {
        return CheckpointFiles.quote(untrusted);
    }

    public static void save(Path file, Map<String, Tensor> tensors) {
        save(file, tensors, Map.of());
    }

    /** Writes tensors (any device; copied to CPU) atomically: a crash leaves the old file or the new one. */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, List<Tensor>> parts = new LinkedHashMap<>();
        tensors.forEach((k, t) -> parts.put(k, List.of(t)));
        saveConcatenated(file, parts, metadata);
    }

    /**
     * Writes each key's parts one after another as one tensor, their concatenation along dim 0,
     * without joining them in memory: parts memory-mapped from shards ({@link #map}) stream from
     * the page cache to the file. The parts of a key must share dtype and trailing shape.
     */
    public static void saveConcatenated(Path file, Map<String, List<Tensor>> parts, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        List<Tensor> host = new ArrayList<>();
        try (TensorScope scope = TensorScope.open()) {
            for (var e : parts.entrySet()) {
                long[] shape = concatenatedShape(e.getKey(), e.getValue());
                long bytes = 0;
                for (Tensor part : e.getValue()) {
                    Tensor t = part.detach().to(Device.CPU).contiguous();
                    host.add(t);
                    bytes += t.numel() * t.dtype().byteSize();
                }
                JsonObject entry = new JsonObject();
                entry.addProperty("dtype", SafetensorsDType.name(e.getValue().getFirst().dtype()));
                JsonArray dims = new JsonArray();
                for (long d : shape) dims.add(d);
                entry.add("shape", dims);
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
                for (Tensor t : host) {
                    if (t.numel() > 0) writeSegment(ch, t.asSegment());
                }
            });
        }
    }

    /** The shape of the parts joined along dim 0; refused when their dtypes or trailing shapes differ. */
    private static long[] concatenatedShape(String key, List<Tensor> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("'" + key + "': no tensors to write");
        Tensor first = parts.getFirst();
        if (parts.size() == 1) return first.shape();
        long[] shape = first.shape().clone();
        if (shape.length == 0) throw new IllegalArgumentException("'" + key + "': scalars cannot be concatenated");
        for (int i = 1; i < parts.size(); i++) {
            Tensor t = parts.get(i);
            long[] s = t.shape();
            if (t.dtype() != first.dtype() || s.length != shape.length
                    || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length), Arrays.copyOfRange(shape, 1, shape.length))) {
                throw new IllegalArgumentException("'" + key + "' part " + i + " is " + t.dtype() + " " + Arrays.toString(s)
                        + ", which cannot follow " + first.dtype() + " " + Arrays.toString(first.shape()) + " along dim 0");
            }
            shape[0] += s[0];
        }
        return shape;
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
