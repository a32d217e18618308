package dev.dit4j.models.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The IDX format of the MNIST family: a big-endian magic number (two zero bytes, the element
 * type, the rank), one 32-bit size per dimension, then the elements. Only unsigned bytes (type
 * 0x08) are read, the type every MNIST-like file uses. Gzip is recognised by its first bytes,
 * not by the file name.
 */
final class Idx {
    static final int UNSIGNED_BYTE = 0x08;
    private static final int MAX_ELEMENTS = Integer.MAX_VALUE - 16;

    private Idx() {}

    /** The sizes of each dimension and the elements in row-major order. */
    record UnsignedBytes(Path file, int[] dims, byte[] data) {}

    /**
     * Reads a whole file of unsigned bytes with exactly {@code rank} dimensions. A wrong magic
     * number, a short or overlong file throws IllegalArgumentException; an unreadable file or
     * corrupt gzip stream throws UncheckedIOException; both name the file.
     */
    static UnsignedBytes read(Path file, int rank) {
        try (InputStream in = open(file)) {
            byte[] magic = in.readNBytes(4);
            if (magic.length < 4) throw bad(file, "is truncated: " + magic.length + " bytes, too short for an IDX header");
            if (magic[0] != 0 || magic[1] != 0) {
                throw bad(file, "is not an IDX file (magic number 0x" + hex(magic) + ")");
            }
            if (magic[2] != UNSIGNED_BYTE) {
                throw bad(file, "holds IDX element type 0x" + Integer.toHexString(magic[2] & 0xff) + ", not unsigned bytes (0x08)");
            }
            if (magic[3] != rank) throw bad(file, "has " + (magic[3] & 0xff) + " dimensions, expected " + rank);
            int[] dims = new int[rank];
            long count = 1;
            for (int d = 0; d < rank; d++) {
                byte[] size = in.readNBytes(4);
                if (size.length < 4) throw bad(file, "is truncated inside its header");
                dims[d] = ((size[0] & 0xff) << 24) | ((size[1] & 0xff) << 16) | ((size[2] & 0xff) << 8) | (size[3] & 0xff);
                if (dims[d] < 0) throw bad(file, "declares a negative size in dimension " + d);
                count *= dims[d];
                if (count > MAX_ELEMENTS) throw bad(file, "declares " + Arrays.toString(dims) + " elements, too many to load");
            }
            byte[] data = new byte[(int) count];
            int got = in.readNBytes(data, 0, data.length);
            if (got < data.length) {
                throw bad(file, "is truncated: sizes " + Arrays.toString(dims) + " need " + count + " bytes of data, found " + got);
            }
            if (in.read() != -1) throw bad(file, "has bytes past the " + count + " its sizes " + Arrays.toString(dims) + " declare");
            return new UnsignedBytes(file, dims, data);
        } catch (EOFException e) {
            // GZIPInputStream's way of saying the compressed stream stops early.
            throw bad(file, "is truncated: " + e.getMessage());
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        boolean gzip = b0 == 0x1f && b1 == 0x8b;
        return gzip ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + " " + what);
    }
}
