package dev.dit4j.models.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A caption file: UTF-8 text, one caption per line ("\n"; a "\r" before it is dropped; a last empty line does not count). */
public final class CaptionFile {
    private CaptionFile() {}

    /** The captions of {@code file}; invalid UTF-8 is an error naming the file and line. An empty line is an empty caption. */
    public static List<String> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read caption file " + file + ": " + e.getMessage(), e);
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> captions = new ArrayList<>();
        int start = 0;
        int line = 1;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') end++;
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            try {
                captions.add(utf8.decode(ByteBuffer.wrap(bytes, start, stop - start)).toString());
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("caption file " + file + ", line " + line + ": not valid UTF-8 (" + firstBadByte(bytes, start, stop) + ")");
            }
            start = end + 1;
            line++;
        }
        return captions;
    }

    /** Where the first undecodable byte of the line is, for the message. */
    private static String firstBadByte(byte[] bytes, int start, int stop) {
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int i = start; i < stop; i++) {
            int b = bytes[i] & 0xFF;
            int need = b < 0x80 ? 0 : b >= 0xC2 && b < 0xE0 ? 1 : b >= 0xE0 && b < 0xF0 ? 2 : b >= 0xF0 && b < 0xF5 ? 3 : -1;
            if (need < 0) return String.format("byte 0x%02X at column %d", b, i - start + 1);
            try {
                utf8.reset().decode(ByteBuffer.wrap(bytes, i, Math.min(need + 1, stop - i)));
            } catch (CharacterCodingException e) {
                return String.format("byte 0x%02X at column %d", b, i - start + 1);
            }
            i += need;
        }
        return "a sequence cut short";
    }
}
