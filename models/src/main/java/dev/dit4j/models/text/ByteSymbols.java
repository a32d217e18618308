package dev.dit4j.models.text;

import java.util.ArrayList;
import java.util.List;

/**
 * CLIP's reversible byte-to-character table (bytes_to_unicode): printable Latin-1 bytes stand for
 * themselves, every other byte for a character from U+0100 on, so BPE works on visible characters
 * and never on whitespace or controls.
 */
final class ByteSymbols {
    private ByteSymbols() {}

    /** The 256 symbols in open_clip's vocabulary order: the printable bytes first, then the rest. */
    static final List<String> SYMBOLS;
    /** The symbol of each byte value. */
    private static final char[] OF_BYTE = new char[256];

    static {
        List<Integer> bytes = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) bytes.add(b);
        for (int b = 0xA1; b <= 0xAC; b++) bytes.add(b);
        for (int b = 0xAE; b <= 0xFF; b++) bytes.add(b);
        List<Integer> chars = new ArrayList<>(bytes);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bytes.contains(b)) {
                bytes.add(b);
                chars.add(256 + n++);
            }
        }
        List<String> symbols = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            OF_BYTE[bytes.get(i)] = (char) (int) chars.get(i);
            symbols.add(String.valueOf((char) (int) chars.get(i)));
        }
        SYMBOLS = List.copyOf(symbols);
    }

    /** The UTF-8 bytes of {@code text}, each as its symbol. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) out[i] = OF_BYTE[utf8[i] & 0xFF];
        return new String(out);
    }
}
