package dev.dit4j.models.eval;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads NumPy {@code .npz} files (numpy.savez, compressed or not, ZIP64 included) as ADM's
 * evaluation suite writes them: small arrays whole ({@link #read}), large ones streamed
 * ({@link #stream}) so that a 50,000-image {@code arr_0} never sits in memory. C order only.
 */
public final class NpzFile implements AutoCloseable {
    private final Path path;
    private final ZipFile zip;

    /** An array's NumPy dtype string ({@code "|u1"}, {@code "<f4"}, ...) and shape. */
    public record Header(String descr, long[] shape) {
        public long count() {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }

        DType dtype(String where) {
            return switch (descr) {
                case "|u1", "<u1" -> DType.UINT8;
                case "<f4" -> DType.FLOAT32;
                case "<f8" -> DType.FLOAT64;
                case "<i8" -> DType.INT64;
                case "<i4" -> DType.INT32;
                default -> throw new IllegalArgumentException(where + ": NumPy dtype '" + descr + "' is not read here (uint8, float32, float64, int32, int64)");
            };
        }

        int itemSize() {
            return Integer.parseInt(descr.substring(2));
        }
    }

    /** An open array: its header and a stream positioned at its first element. */
    public record Stream(Header header, DataInputStream data) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            data.close();
        }
    }

    public NpzFile(Path path) {
        this.path = path;
        try {
            this.zip = new ZipFile(path.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(path + " is not a readable .npz (zip) file: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** The array names (entries without ".npy"). */
    public Set<String> names() {
        Set<String> out = new LinkedHashSet<>();
        zip.stream().forEach(e -> {
            if (e.getName().endsWith(".npy")) out.add(e.getName().substring(0, e.getName().length() - 4));
        });
        return out;
    }

    public boolean has(String name) {
        return zip.getEntry(name + ".npy") != null;
    }

    /** Opens array {@code name} for streaming. */
    public Stream stream(String name) {
        ZipEntry entry = zip.getEntry(name + ".npy");
        if (entry == null) throw new IllegalArgumentException(path + " has no array '" + name + "' (it holds " + names() + ")");
        try {
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(zip.getInputStream(entry), 1 << 20));
            return new Stream(header(in, name), in);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read array '" + name + "'", e);
        }
    }

    /** Array {@code name} whole, as a CPU tensor of its dtype. */
    public Tensor read(String name) {
        try (Stream s = stream(name)) {
            Header h = s.header();
            DType dtype = h.dtype(path + " '" + name + "'");
            long bytes = Math.multiplyExact(h.count(), (long) h.itemSize());
            if (bytes > Integer.MAX_VALUE - 16) throw new IllegalArgumentException(path + " '" + name + "' is too large to read whole");
            byte[] raw = new byte[(int) bytes];
            s.data().readFully(raw);
            return fromBytes(raw, dtype, h.shape());
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": array '" + name + "' is truncated", e);
        }
    }

    static Tensor fromBytes(byte[] raw, DType dtype, long[] shape) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        return switch (dtype) {
            case UINT8 -> Tensor.of(raw, shape);
            case FLOAT32 -> { float[] a = new float[raw.length / 4]; b.asFloatBuffer().get(a); yield Tensor.of(a, shape); }
            case FLOAT64 -> { double[] a = new double[raw.length / 8]; b.asDoubleBuffer().get(a); yield Tensor.of(a, shape); }
            case INT64 -> { long[] a = new long[raw.length / 8]; b.asLongBuffer().get(a); yield Tensor.of(a, shape); }
            case INT32 -> { int[] a = new int[raw.length / 4]; b.asIntBuffer().get(a); yield Tensor.of(a, shape); }
            default -> throw new IllegalArgumentException("dtype " + dtype);
        };
    }

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Header header(DataInputStream in, String name) throws IOException {
        String where = path + " '" + name + "'";
        byte[] magic = new byte[8];
        in.readFully(magic);
        if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.ISO_8859_1).equals("NUMPY")) {
            throw new IllegalArgumentException(where + " is not a .npy array");
        }
        int len = magic[6] == 1 ? Short.toUnsignedInt(Short.reverseBytes(in.readShort())) : Integer.reverseBytes(in.readInt());
        byte[] text = new byte[len];
        in.readFully(text);
        String dict = new String(text, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(dict), f = FORTRAN.matcher(dict), s = SHAPE.matcher(dict);
        if (!d.find() || !f.find() || !s.find()) throw new IllegalArgumentException(where + ": unreadable .npy header " + dict.strip());
        if (f.group(1).equals("True")) throw new IllegalArgumentException(where + " is stored in Fortran order; save it C-contiguous");
        long[] shape = Arrays.stream(s.group(1).split(",")).map(String::strip).filter(x -> !x.isEmpty()).mapToLong(Long::parseLong).toArray();
        return new Header(d.group(1), shape);
    }

    @Override
    public void close() {
        try {
            zip.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
