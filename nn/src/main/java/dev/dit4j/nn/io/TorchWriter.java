package dev.dit4j.nn.io;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes torch.save files for {@link TorchCheckpoint#write}: a protocol 2 pickle and one stored zip entry per tensor. */
final class TorchWriter {
    private static final int CHUNK = 1 << 20;
    /** torch.save aligns storages to 64 bytes so that torch.load(mmap=True) can map them in place. */
    private static final int ALIGNMENT = 64;
    /** An unregistered zip extra-field id, used only for padding; readers skip unknown ids. */
    private static final int PADDING_EXTRA_ID = 0xD175;
    private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(2000, 1, 1, 0, 0); // reproducible output

    private TorchWriter() {}

    /** See {@link TorchCheckpoint#write}. */
    static void write(Path file, Map<String, ?> contents) {
        try (TensorScope scope = TensorScope.open()) {
            Map<Tensor, Integer> keys = new IdentityHashMap<>();
            List<Tensor> storages = new ArrayList<>();
            PickleWriter p = new PickleWriter();
            pickle(p, contents, "contents", 0, keys, storages);
            byte[] pickle = p.finish();
            AtomicFiles.write(file, ch -> writeZip(ch, pickle, storages));
        }
    }

    private static void pickle(PickleWriter p, Object v, String path, int depth, Map<Tensor, Integer> keys, List<Tensor> storages) {
        if (depth > PickleReader.MAX_DEPTH) throw new IllegalArgumentException(path + " is nested too deeply, or contains itself");
        switch (v) {
            case null -> p.none();
            case Boolean b -> p.bool(b);
            case Integer i -> p.integer(i);
            case Long l -> p.integer(l);
            case Short s -> p.integer(s);
            case Byte b -> p.integer(b);
            case BigInteger b -> p.integer(b);
            case Float f -> p.real(f);
            case Double d -> p.real(d);
            case String s -> p.string(s);
            case Tensor t -> tensor(p, t, keys, storages);
            case Map<?, ?> m -> {
                p.emptyDict();
                if (m.isEmpty()) return;
                p.mark();
                for (var e : m.entrySet()) {
                    switch (e.getKey()) {
                        case String s -> p.string(s);
                        case Integer i -> p.integer(i);
                        case Long l -> p.integer(l);
                        case null, default -> throw new IllegalArgumentException(path + " has key " + e.getKey()
                                + ": only String and integer keys can be saved");
                    }
                    pickle(p, e.getValue(), path + "." + e.getKey(), depth + 1, keys, storages);
                }
                p.setItems();
            }
            case List<?> l -> {
                p.emptyList();
                if (l.isEmpty()) return;
                p.mark();
                for (int i = 0; i < l.size(); i++) pickle(p, l.get(i), path + "[" + i + "]", depth + 1, keys, storages);
                p.appends();
            }
            default -> throw new IllegalArgumentException(path + " is a " + v.getClass().getName() + ", which cannot be saved");
        }
    }

    /** torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()), as torch.save writes it. */
    private static void tensor(PickleWriter p, Tensor t, Map<Tensor, Integer> keys, List<Tensor> storages) {
        Integer key = keys.get(t);
        if (key == null) {
            key = storages.size();
            keys.put(t, key);
            storages.add(t.detach().to(Device.CPU).contiguous()); // closed with write()'s scope
        }
        Tensor host = storages.get(key);
        long[] shape = host.shape();
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.mark();
        p.mark();
        p.string("storage");
        p.global("torch", TorchStorageTypes.className(host.dtype()));
        p.string(Integer.toString(key));
        p.string("cpu");
        p.integer(host.numel());
        p.tuple();
        p.persistentId();
        p.integer(0);
        p.mark();
        for (long s : shape) p.integer(s);
        p.tuple();
        p.mark();
        long stride = 1;
        long[] strides = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = stride;
            stride *= Math.max(shape[i], 1); // torch's contiguous strides treat empty dims as size 1
        }
        for (long s : strides) p.integer(s);
        p.tuple();
        p.bool(false);
        p.global("collections", "OrderedDict");
        p.mark();
        p.tuple();
        p.reduce();
        p.tuple();
        p.reduce();
    }

    private static void writeZip(FileChannel ch, byte[] pickle, List<Tensor> storages) throws IOException {
        CountingStream out = new CountingStream(new BufferedOutputStream(Channels.newOutputStream(ch), CHUNK));
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, out, "archive/data.pkl", MemorySegment.ofArray(pickle));
            stored(zip, out, "archive/byteorder", ascii("little"));
            for (int i = 0; i < storages.size(); i++) stored(zip, out, "archive/data/" + i, storages.get(i).asSegment());
            stored(zip, out, "archive/version", ascii("3\n"));
        }
    }

    private static MemorySegment ascii(String s) {
        return MemorySegment.ofArray(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** An uncompressed entry, padded so that its data starts on an {@link #ALIGNMENT}-byte boundary. */
    private static void stored(ZipOutputStream zip, CountingStream out, String name, MemorySegment data) throws IOException {
        long n = data.byteSize();
        CRC32 crc = new CRC32();
        for (long pos = 0; pos < n; pos += CHUNK) crc.update(data.asSlice(pos, Math.min(CHUNK, n - pos)).asByteBuffer());
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(n);
        e.setCompressedSize(n);
        e.setCrc(crc.getValue());
        e.setTimeLocal(ENTRY_TIME);
        // local header: 30 fixed bytes, the name, our extra field, and a ZIP64 field the JDK adds for 4 GiB entries
        long dataStart = out.count + 30 + name.length() + 4 + (n >= 0xFFFFFFFFL ? 20 : 0);
        int pad = (int) Math.floorMod(-dataStart, (long) ALIGNMENT);
        byte[] extra = new byte[4 + pad];
        extra[0] = (byte) PADDING_EXTRA_ID;
        extra[1] = (byte) (PADDING_EXTRA_ID >>> 8);
        extra[2] = (byte) pad;
        e.setExtra(extra);
        zip.putNextEntry(e);
        byte[] buf = new byte[(int) Math.min(CHUNK, n)];
        for (long pos = 0; pos < n; pos += buf.length) {
            int len = (int) Math.min(buf.length, n - pos);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, pos, buf, 0, len);
            zip.write(buf, 0, len);
        }
        zip.closeEntry();
    }

    /** Counts the bytes written, and leaves the channel open on close (AtomicFiles syncs and closes it). */
    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
