package dev.dit4j.nn.io;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * Emits pickle protocol 2 opcodes, the protocol {@code torch.save} uses. It writes no memo
 * entries: values are never shared, and Python's unpickler does not need them.
 */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter() {
        out.write(0x80); // PROTO 2
        out.write(2);
    }

    void none() {
        out.write('N');
    }

    void bool(boolean b) {
        out.write(b ? 0x88 : 0x89); // NEWTRUE / NEWFALSE
    }

    void integer(long v) {
        if (v >= 0 && v < 0x100) {
            out.write('K'); // BININT1
            out.write((int) v);
        } else if (v >= 0 && v < 0x10000) {
            out.write('M'); // BININT2
            le(v, 2);
        } else if (v == (int) v) {
            out.write('J'); // BININT
            le(v, 4);
        } else {
            integer(BigInteger.valueOf(v));
        }
    }

    void integer(BigInteger v) {
        byte[] be = v.toByteArray(); // minimal two's complement, big-endian
        if (be.length > 255) throw new IllegalArgumentException("integer too large to write: " + v);
        out.write(0x8a); // LONG1
        out.write(be.length);
        for (int i = be.length - 1; i >= 0; i--) out.write(be[i]);
    }

    void real(double v) {
        out.write('G'); // BINFLOAT, big-endian
        long bits = Double.doubleToRawLongBits(v);
        for (int shift = 56; shift >= 0; shift -= 8) out.write((int) (bits >>> shift));
    }

    void string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X'); // BINUNICODE
        le(b.length, 4);
        out.writeBytes(b);
    }

    void global(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    void mark() {
        out.write('(');
    }

    /** Items pushed since the last mark become a tuple. */
    void tuple() {
        out.write('t');
    }

    void emptyDict() {
        out.write('}');
    }

    /** Key-value pairs pushed since the last mark go into the dict below the mark. */
    void setItems() {
        out.write('u');
    }

    void emptyList() {
        out.write(']');
    }

    /** Items pushed since the last mark go into the list below the mark. */
    void appends() {
        out.write('e');
    }

    /** Calls the callable below the argument tuple on top. */
    void reduce() {
        out.write('R');
    }

    /** The tuple on top is a persistent id: the unpickler's persistent_load resolves it. */
    void persistentId() {
        out.write('Q');
    }

    byte[] finish() {
        out.write('.'); // STOP
        return out.toByteArray();
    }

    private void le(long v, int n) {
        for (int i = 0; i < n; i++) out.write((int) (v >>> (8 * i)));
    }
}
