package dev.dit4j.nn.io;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Shapes;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * One read of a torch.save file for {@link TorchCheckpoint}: finds data.pkl, runs the restricted
 * unpickler over it, and serves its storage and tensor requests from the zip. Keeps the storages it
 * read (closed with it) and the tensors it made (those the result does not hold are closed).
 */
final class TorchLoader implements PickleReader.Hooks, AutoCloseable {
    private static final long MAX_PICKLE_BYTES = 64L << 20;
    /**
     * A file may make at most this many times its own size in tensor memory (plus {@link #SLACK}):
     * views that copy, or zip entries that overlap, must not turn a small file into a huge allocation.
     */
    private static final long MAX_EXPANSION = 16;
    private static final long SLACK = 64L << 20;
    private static final int MAX_DIMS = 64;
    private static final int CHUNK = 1 << 20;
    private static final Set<String> REBUILDERS = Set.of("torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state");

    /** A storage named by a persistent id; its bytes are read when a tensor first uses it. */
    private record Storage(String key, DType dtype, long numel) {}

    private final Path file;
    private final ZipFile zip;
    private String prefix; // "archive/": the directory holding data.pkl
    private long budget;
    private final Map<String, Storage> storages = new HashMap<>();
    private final Map<String, Tensor> storageData = new HashMap<>();
    private final List<Tensor> made = new ArrayList<>();
    /** One staging buffer for every record: a fresh one per storage would grow the heap by a MiB each. */
    private byte[] copyBuffer;
    private final Set<Tensor> returned = Collections.newSetFromMap(new IdentityHashMap<>());

    TorchLoader(Path file, ZipFile zip) throws IOException {
        this.file = file;
        this.zip = zip;
        this.budget = SLACK + MAX_EXPANSION * Files.size(file);
    }

    Object load() throws IOException {
        ZipEntry pickle = findPickle();
        ZipEntry order = zip.getEntry(prefix + "byteorder");
        if (order != null) {
            String byteOrder = new String(readSmall(order, 16), StandardCharsets.US_ASCII).trim();
            if (!byteOrder.equals("little")) throw bad("stores tensors in " + byteOrder + "-endian byte order, which is not supported");
        }
        byte[] bytes = readSmall(pickle, MAX_PICKLE_BYTES);
        Object result;
        try {
            result = new PickleReader(bytes, "torch checkpoint " + file + ", " + pickle.getName(), this).load();
        } catch (RuntimeException e) {
            made.forEach(Tensor::close);
            throw e;
        }
        for (Tensor t : made) {
            if (!returned.contains(t)) t.close(); // made but dropped by the pickle
        }
        return result;
    }

    /** The first data.pkl one directory deep; like torch, the archive's directory name may be anything. */
    private ZipEntry findPickle() {
        for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
            ZipEntry e = en.nextElement();
            String name = e.getName();
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                prefix = name.substring(0, slash + 1);
                return e;
            }
        }
        throw bad("has no data.pkl record: not a torch.save checkpoint");
    }

    @Override
    public void close() {
        storageData.values().forEach(Tensor::close); // views made from them keep the memory alive
    }

    private static String quote(String untrusted) {
        return CheckpointFiles.quote(untrusted);
    }

    private CheckpointException bad(String what) {
        return new CheckpointException("torch checkpoint " + file + " " + what);
    }

    private void spend(long bytes, String what) {
        if (bytes > budget) {
            throw new IllegalArgumentException(what + " needs " + bytes + " bytes, more than this file can justify (tensors may"
                    + " take at most " + MAX_EXPANSION + " times the file's size, plus " + (SLACK >> 20) + " MiB)");
        }
        budget -= bytes;
    }

    // ---- pickle hooks ----

    @Override
    public boolean allows(PickleReader.Global g) {
        return REBUILDERS.contains(g.toString()) || TorchStorageTypes.dtypeOf(g) != null;
    }

    /** ('storage', storage class, key, location, numel): location is ignored, everything loads to the CPU. */
    @Override
    public Object persistentLoad(Object pid) {
        if (!(pid instanceof PickleReader.Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw new IllegalArgumentException("unsupported persistent id " + (pid instanceof PickleReader.Tuple ? pid : PickleReader.summary(pid))
                    + ", expected ('storage', type, key, location, numel)");
        }
        DType dtype = t.get(1) instanceof PickleReader.Global g ? TorchStorageTypes.dtypeOf(g) : null;
        if (dtype == null) throw new IllegalArgumentException("persistent id names no known storage type: " + PickleReader.summary(t.get(1)));
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw new IllegalArgumentException("malformed storage id " + pid + ", expected ('storage', type, key, location, numel)");
        }
        Storage s = new Storage(key, dtype, numel);
        Storage seen = storages.putIfAbsent(key, s);
        if (seen != null && !seen.equals(s)) throw new IllegalArgumentException("storage " + quote(key) + " is described twice, differently");
        return s;
    }

    @Override
    public Object call(PickleReader.Global g, PickleReader.Tuple args) {
        switch (g.name()) {
            case "_rebuild_tensor_v2" -> {
                return rebuildTensor(args);
            }
            case "_rebuild_parameter", "_rebuild_parameter_with_state" -> {
                // (data, requires_grad, backward_hooks[, state]): a Parameter loads as its data
                if (args.size() >= 3 && args.get(0) instanceof Tensor t) return t;
                throw new IllegalArgumentException(g + " needs a tensor and at least 2 more arguments, got " + args);
            }
            default -> throw new IllegalArgumentException(g + " cannot be called");
        }
    }

    @Override
    public Object finish(Object made) {
        if (made instanceof Tensor t) {
            returned.add(t);
            return t;
        }
        throw new IllegalArgumentException("a bare storage outside any tensor is not supported");
    }

    /** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]). */
    private Tensor rebuildTensor(PickleReader.Tuple a) {
        if (a.size() < 4 || !(a.get(0) instanceof Storage s) || !(a.get(1) instanceof Long offset)) {
            throw new IllegalArgumentException("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...), got " + a);
        }
        long[] shape = longs(a.get(2), "size", s);
        long[] stride = longs(a.get(3), "stride", s);
        long end = TorchViews.extent(offset, shape, stride);
        if (end > s.numel()) {
            throw new IllegalArgumentException("a tensor of size " + Arrays.toString(shape) + " and stride " + Arrays.toString(stride)
                    + " at offset " + offset + " reaches element " + (end - 1) + " of storage " + quote(s.key()) + ", which has " + s.numel());
        }
        Tensor data = storageData(s);
        if (!TorchViews.isRowMajor(shape, stride)) {
            long bytes;
            try {
                bytes = Math.multiplyExact(Shapes.numel(shape), s.dtype().byteSize());
            } catch (ArithmeticException e) {
                bytes = Long.MAX_VALUE; // overflowing sizes are just too large
            }
            spend(bytes, "copying a strided view of storage " + quote(s.key()));
        }
        Tensor t = TorchViews.view(data, offset, shape, stride);
        made.add(t);
        return t;
    }

    private static long[] longs(Object o, String field, Storage s) {
        String what = field + " (of a tensor on storage " + quote(s.key()) + ")";
        if (!(o instanceof PickleReader.Tuple t) || t.size() > MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + what + " is not a tuple of at most " + MAX_DIMS + " ints: " + PickleReader.summary(o));
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long v)) throw new IllegalArgumentException("tensor " + what + " holds a non-int: " + t);
            out[i] = v;
        }
        return out;
    }

    /** The storage as a 1-d tensor, read from the zip on first use. */
    private Tensor storageData(Storage s) {
        Tensor data = storageData.get(s.key());
        if (data != null) return data;
        String name = prefix + "data/" + s.key();
        ZipEntry e = zip.getEntry(name);
        if (e == null || e.isDirectory()) {
            throw new IllegalArgumentException("storage " + quote(s.key()) + " is missing: no record " + CheckpointFiles.quote(name));
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(s.numel(), s.dtype().byteSize());
        } catch (ArithmeticException ex) {
            throw new IllegalArgumentException("storage " + quote(s.key()) + " declares numel " + s.numel() + " " + s.dtype()
                    + " elements, whose size in bytes overflows 64 bits");
        }
        if (e.getSize() != bytes) {
            throw new IllegalArgumentException("storage " + quote(s.key()) + " should hold " + s.numel() + " " + s.dtype() + " elements ("
                    + bytes + " bytes) but " + name + " has " + e.getSize() + " bytes");
        }
        spend(bytes, "storage " + quote(s.key()));
        data = TensorScope.release(Tensor.empty(new long[] {s.numel()}, s.dtype(), Device.CPU));
        storageData.put(s.key(), data); // closed by close(), even if reading fails
        if (bytes > 0) readInto(e, data.asSegment());
        return data;
    }

    /** Reads a whole entry into memory, checking its CRC (the JDK does not for stored entries). */
    private byte[] readSmall(ZipEntry e, long max) {
        if (e.getSize() < 0 || e.getSize() > max) throw bad("has a record " + e.getName() + " of " + e.getSize() + " bytes (at most " + max + " expected)");
        byte[] b = new byte[(int) e.getSize()];
        readInto(e, MemorySegment.ofArray(b));
        return b;
    }

    private void readInto(ZipEntry e, MemorySegment dst) {
        if (copyBuffer == null) copyBuffer = new byte[CHUNK];
        byte[] buf = copyBuffer;
        CRC32 crc = new CRC32();
        try (InputStream in = zip.getInputStream(e)) {
            for (long pos = 0; pos < dst.byteSize(); ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, dst.byteSize() - pos));
                if (n < 0) throw bad("is truncated: record " + e.getName() + " ends after " + pos + " of " + dst.byteSize() + " bytes");
                crc.update(buf, 0, n);
                MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, pos, n);
                pos += n;
            }
        } catch (IOException ex) {
            throw new CheckpointException("cannot read record " + e.getName() + " of torch checkpoint " + file + ": " + ex.getMessage(), ex);
        }
        if (e.getCrc() != -1 && crc.getValue() != e.getCrc()) throw bad("is corrupt: record " + e.getName() + " fails its CRC check");
    }
}

