package dev.dit4j.nn.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * Writes NumPy {@code .npz} files, as {@code numpy.savez} does: a zip of uncompressed {@code .npy}
 * entries (format 1.0 headers, 64-byte aligned). Arrays are streamed, so they may be larger than
 * memory (a 50,000-image evaluation batch is ~10 GB); every entry carries ZIP64 sizes, which
 * numpy's zipfile reads at any size. The file is written atomically ({@link AtomicFiles}).
 */
public final class Npz {
    private Npz() {}

    /** Writes an array's bytes, C order, exactly {@code shape}'s element count times the item size. */
    @FunctionalInterface
    public interface Body {
        void write(OutputStream out) throws IOException;
    }

    /**
     * One array: entry {@code name} (".npy" is added), NumPy dtype {@code descr} ({@code "|u1"}, {@code "<i8"},
     * {@code "<f4"}, ...) of {@code itemSize} bytes, and its {@code shape}.
     */
    public record Array(String name, String descr, int itemSize, long[] shape, Body body) {
        long dataBytes() {
            long n = itemSize;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    /** A uint8 array, as the ADM evaluation suite's {@code arr_0} of images [N, H, W, 3]. */
    public static Array uint8(String name, long[] shape, Body body) {
        return new Array(name, "|u1", 1, shape, body);
    }

    public static void write(Path file, List<Array> arrays) {
        AtomicFiles.write(file, channel -> {
            List<long[]> entries = new ArrayList<>(); // {local header offset, crc, size} per array
            for (Array a : arrays) entries.add(writeEntry(channel, a));
            long centralStart = channel.position();
            for (int i = 0; i < arrays.size(); i++) {
                long[] e = entries.get(i);
                byte[] name = entryName(arrays.get(i));
                ByteBuffer b = le(46 + name.length + 28);
                b.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0);
                b.putShort((short) 0).putShort(DOS_DATE).putInt((int) e[1]).putInt(-1).putInt(-1);
                b.putShort((short) name.length).putShort((short) 28).putShort((short) 0).putShort((short) 0).putShort((short) 0);
                b.putInt(0).putInt(-1).put(name);
                b.putShort((short) 1).putShort((short) 24).putLong(e[2]).putLong(e[2]).putLong(e[0]);
                writeFully(channel, b);
            }
            long centralEnd = channel.position();
            ByteBuffer end = le(56 + 20 + 22);
            end.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0);
            end.putLong(arrays.size()).putLong(arrays.size()).putLong(centralEnd - centralStart).putLong(centralStart);
            end.putInt(0x07064b50).putInt(0).putLong(centralEnd).putInt(1);
            end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0);
            end.putShort((short) Math.min(arrays.size(), 0xffff)).putShort((short) Math.min(arrays.size(), 0xffff));
            end.putInt(-1).putInt(-1).putShort((short) 0);
            writeFully(channel, end);
        });
    }

    /** 1980-01-01, the zip epoch: entries carry no time, so the same arrays give the same bytes. */
    private static final short DOS_DATE = (1 << 5) | 1;

    /** The local header (CRC patched in afterwards), the .npy header and the data; returns {offset, crc, size}. */
    private static long[] writeEntry(FileChannel channel, Array a) throws IOException {
        byte[] name = entryName(a);
        byte[] npyHeader = npyHeader(a);
        long size = npyHeader.length + a.dataBytes();
        long offset = channel.position();
        ByteBuffer h = le(30 + name.length + 20);
        h.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0);
        h.putShort((short) 0).putShort(DOS_DATE).putInt(0).putInt(-1).putInt(-1);
        h.putShort((short) name.length).putShort((short) 20).put(name);
        h.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        writeFully(channel, h);
        CheckedOutputStream data = new CheckedOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 20), new CRC32());
        data.write(npyHeader);
        a.body().write(data);
        data.flush(); // not closed: that would close the channel
        long written = channel.position() - offset - h.capacity();
        if (written != size) {
            throw new IOException("array '" + a.name() + "' wrote " + (written - npyHeader.length) + " bytes of data, expected " + a.dataBytes());
        }
        long crc = data.getChecksum().getValue();
        ByteBuffer patch = le(4).putInt((int) crc);
        patch.flip();
        while (patch.hasRemaining()) channel.write(patch, offset + 14 + patch.position());
        return new long[] {offset, crc, size};
    }

    private static byte[] entryName(Array a) {
        return (a.name() + ".npy").getBytes(StandardCharsets.UTF_8);
    }

    /** The .npy 1.0 header: magic, version, length, and the dict padded with spaces to a multiple of 64 bytes, ending in a newline. */
    static byte[] npyHeader(Array a) {
        StringJoiner dims = new StringJoiner(", ", "(", a.shape().length == 1 ? ",)" : ")");
        for (long d : a.shape()) dims.add(Long.toString(d));
        String dict = "{'descr': '" + a.descr() + "', 'fortran_order': False, 'shape': " + dims + ", }";
        int total = 10 + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String text = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer b = le(padded);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) text.length()).put(text.getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    private static ByteBuffer le(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void writeFully(FileChannel channel, ByteBuffer b) throws IOException {
        b.flip();
        while (b.hasRemaining()) channel.write(b);
    }
}
