package dev.dit4j.nn.io;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The checks every reader of a user's file goes through (captions, manifests, vocabularies,
 * images, configurations, settings), as the checkpoint readers do: regular files only (a FIFO
 * would block the open, a device never ends), bounded sizes, bounded decompressed sizes, bounded
 * line lengths and bounded image sizes, each failure an {@link InputFileException} naming the
 * file and what is wrong, in one line.
 *
 * <p>The image pixel limit follows Pillow's: a warning above {@link #maxImagePixels()} / 2, an
 * error above {@link #maxImagePixels()} (178,956,970 by default, Pillow's twice 89,478,485); set
 * it with the system property {@code dit4j.maxImagePixels} or the environment variable
 * {@code DIT4J_MAX_IMAGE_PIXELS}.
 */
public final class InputFiles {
    private InputFiles() {}

    /** Text files (captions, manifests, vocabularies, settings): 1 GiB. */
    public static final long MAX_TEXT_BYTES = 1L << 30;
    /** One line of a text file: 1 MiB characters (a caption or a merge is far shorter). */
    public static final int MAX_LINE_CHARS = 1 << 20;
    /** A configuration (config.json, settings.txt): 16 MiB. */
    public static final long MAX_CONFIG_BYTES = 16L << 20;
    /** Pillow's MAX_IMAGE_PIXELS: a warning above it, an error above twice it. */
    public static final long PILLOW_MAX_IMAGE_PIXELS = 89_478_485L;

    /** A user's file that cannot be read as what it should be: names the file and the reason. */
    public static final class InputFileException extends IllegalArgumentException {
        public InputFileException(String message) {
            super(message);
        }

        public InputFileException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Refuses anything but a regular file (a symlink to one is fine) before it is opened, and a
     * missing or unreadable one with the reason in words: {@code what} names the kind ("caption file").
     */
    public static void requireRegularFile(Path file, String what) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw cannotRead(file, what, e);
        }
        if (!a.isRegularFile()) throw new InputFileException(what + " " + file + " is " + kind(file, a) + ", not a regular file");
    }

    /** Whether {@code file} exists at all (a dangling symlink counts, so that it is reported rather than skipped). */
    public static boolean exists(Path file) {
        return Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** "cannot read caption file c.txt: no such file": the path once, then the reason in words. */
    public static InputFileException cannotRead(Path file, String what, IOException e) {
        return new InputFileException("cannot read " + what + " " + file + ": " + reason(e), e);
    }

    /** The reason of an I/O error without the path that NIO puts in its message. */
    public static String reason(IOException e) {
        return CheckpointFiles.reason(e);
    }

    /** An untrusted string for a message: quoted, and cut short. */
    public static String quote(String s) {
        return CheckpointFiles.quote(s);
    }

    /** The bytes of a regular file of at most {@code maxBytes} (checked before reading, and again while reading, as a file may grow). */
    public static byte[] readBytes(Path file, String what, long maxBytes) {
        requireRegularFile(file, what);
        try (InputStream in = Files.newInputStream(file)) {
            long size = Files.size(file);
            if (size > maxBytes) throw tooLarge(file, what, size, maxBytes);
            byte[] bytes = in.readNBytes((int) Math.min(maxBytes + 1, Integer.MAX_VALUE - 8));
            if (bytes.length > maxBytes) throw tooLarge(file, what, bytes.length, maxBytes);
            return bytes;
        } catch (IOException e) {
            throw cannotRead(file, what, e);
        }
    }

    /** A regular file's text, strict UTF-8 (an invalid byte is an error naming the file), of at most {@code maxBytes}. */
    public static String readString(Path file, String what, long maxBytes) {
        byte[] bytes = readBytes(file, what, maxBytes);
        try {
            return utf8().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InputFileException(what + " " + file + " is not valid UTF-8 text");
        }
    }

    /**
     * The lines of a regular file ("\n", a "\r" before it dropped, a last empty line not counted),
     * strict UTF-8, the file at most {@code maxBytes} and each line at most {@code maxLineChars};
     * errors name the file and line.
     */
    public static List<String> readLines(Path file, String what, long maxBytes, int maxLineChars) {
        byte[] bytes = readBytes(file, what, maxBytes);
        CharsetDecoder utf8 = utf8();
        List<String> lines = new ArrayList<>();
        int start = 0;
        int line = 1;
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') end++;
            int stop = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            if (stop - start > maxLineChars) throw longLine(file, what, line, maxLineChars);
            try {
                lines.add(utf8.reset().decode(ByteBuffer.wrap(bytes, start, stop - start)).toString());
            } catch (CharacterCodingException e) {
                throw new InputFileException(what + " " + file + ", line " + line + ": not valid UTF-8 (" + firstBadByte(bytes, start, stop) + ")");
            }
            start = end + 1;
            line++;
        }
        return lines;
    }

    /**
     * Reads at most {@code maxLines} lines of a stream of strict UTF-8 text (a gzip's content, say),
     * each at most {@code maxLineChars}: a longer line is an error naming the file and line, found
     * without holding the line.
     */
    public static List<String> readLines(InputStream in, Path file, String what, int maxLines, int maxLineChars) {
        java.io.Reader r = new java.io.InputStreamReader(in, utf8());
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        char[] buf = new char[1 << 14];
        try {
            for (int n; lines.size() < maxLines && (n = r.read(buf)) != -1; ) {
                for (int i = 0; i < n && lines.size() < maxLines; i++) {
                    char c = buf[i];
                    if (c == '\n') {
                        lines.add(line.toString());
                        line.setLength(0);
                    } else {
                        line.append(c);
                        if (line.length() > maxLineChars + 1) throw longLine(file, what, lines.size() + 1, maxLineChars);
                    }
                }
            }
        } catch (CharacterCodingException e) {
            throw new InputFileException(what + " " + file + ", line " + (lines.size() + 1) + ": not valid UTF-8");
        } catch (ZipException e) {
            throw new InputFileException(what + " " + file + " is not valid gzip data (" + e.getMessage() + ")");
        } catch (java.io.EOFException e) {
            throw new InputFileException(what + " " + file + " is truncated (its compressed data ends early)");
        } catch (IOException e) {
            if (e.getCause() instanceof InputFileException ife) throw ife;
            throw cannotRead(file, what, e);
        }
        if (lines.size() < maxLines && !line.isEmpty()) lines.add(line.toString());
        for (int i = 0; i < lines.size(); i++) {
            String s = lines.get(i);
            if (s.endsWith("\r")) lines.set(i, s.substring(0, s.length() - 1));
            if (lines.get(i).length() > maxLineChars) throw longLine(file, what, i + 1, maxLineChars);
        }
        return lines;
    }

    /**
     * Opens a regular gzip file of at most {@code maxBytes} whose content may be at most
     * {@code maxInflated} bytes: reading past that throws an IOException whose cause is an
     * InputFileException naming the file (a few MB can inflate to many GB).
     */
    public static InputStream openGzip(Path file, String what, long maxBytes, long maxInflated) {
        requireRegularFile(file, what);
        try {
            long size = Files.size(file);
            if (size > maxBytes) throw tooLarge(file, what, size, maxBytes);
            InputStream raw = Files.newInputStream(file);
            try {
                return bounded(new GZIPInputStream(raw, 1 << 16), maxInflated, () -> new InputFileException(
                        what + " " + file + " decompresses to more than " + bytes(maxInflated) + " (a gzip bomb?)"));
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
        } catch (ZipException e) {
            throw new InputFileException(what + " " + file + " is not gzip data (" + e.getMessage() + ")");
        } catch (java.io.EOFException e) {
            throw new InputFileException(what + " " + file + " is empty or truncated: not gzip data");
        } catch (IOException e) {
            throw cannotRead(file, what, e);
        }
    }

    /** {@code in}, throwing once more than {@code max} bytes have been read (an IOException caused by an InputFileException). */
    public static InputStream bounded(InputStream in, Path file, String what, long max) {
        return bounded(in, max, () -> new InputFileException(what + " " + file + " is larger than the limit of " + bytes(max)));
    }

    private static InputStream bounded(InputStream in, long max, java.util.function.Supplier<InputFileException> failure) {
        return new FilterInputStream(in) {
            long count;

            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) count(1);
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) count(n);
                return n;
            }

            private void count(long n) throws IOException {
                count += n;
                if (count > max) {
                    InputFileException e = failure.get();
                    throw new IOException(e.getMessage(), e);
                }
            }
        };
    }

    /**
     * The regular files under {@code root} (at any depth, symlinks followed) that {@code keep}
     * accepts, sorted; a symlink loop or an unreadable folder is an error naming it.
     */
    public static List<Path> walk(Path root, String what, Predicate<Path> keep) {
        try (Stream<Path> walk = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
            return walk.filter(p -> Files.isRegularFile(p) && keep.test(p)).sorted().toList();
        } catch (UncheckedIOException e) {
            throw walkFailure(root, what, e.getCause());
        } catch (IOException e) {
            throw walkFailure(root, what, e);
        }
    }

    private static InputFileException walkFailure(Path root, String what, IOException e) {
        if (e instanceof FileSystemLoopException loop) {
            return new InputFileException(what + " " + root + ": symbolic link loop at " + loop.getFile() + " (it leads back to a folder above it)", e);
        }
        String at = e instanceof FileSystemException f && f.getFile() != null ? " at " + f.getFile() : "";
        return new InputFileException("cannot list " + what + " " + root + at + ": " + reason(e), e);
    }

    // ---- images -------------------------------------------------------------------------------

    /** The pixel limit: {@code dit4j.maxImagePixels} or DIT4J_MAX_IMAGE_PIXELS, else Pillow's twice 89,478,485. */
    public static long maxImagePixels() {
        String v = System.getProperty("dit4j.maxImagePixels");
        String source = "system property dit4j.maxImagePixels";
        if (v == null) {
            v = System.getenv("DIT4J_MAX_IMAGE_PIXELS");
            source = "DIT4J_MAX_IMAGE_PIXELS";
        }
        if (v == null || v.isBlank()) return 2 * PILLOW_MAX_IMAGE_PIXELS;
        try {
            long n = Long.parseLong(v.strip().replace("_", ""));
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + " must be a positive whole number of pixels, got " + quote(v));
        }
    }

    /**
     * Checks an image's dimensions, read from its header, before it is decoded: above
     * {@link #maxImagePixels()} is an error naming the file; above half of it a warning on
     * standard error (Pillow's DecompressionBombWarning). Returns the pixel count.
     */
    public static long checkImageSize(Path file, long width, long height) {
        if (width < 1 || height < 1) throw new InputFileException("image " + file + " has no pixels (" + width + "x" + height + ")");
        long pixels = Math.multiplyHigh(width, height) != 0 ? Long.MAX_VALUE : width * height;
        long max = maxImagePixels();
        if (pixels > max) {
            throw new InputFileException(String.format(Locale.ROOT, "image %s is %dx%d, %,d pixels, over the limit of %,d "
                    + "(a decompression bomb?): set DIT4J_MAX_IMAGE_PIXELS to allow it", file, width, height, pixels, max));
        }
        if (pixels > max / 2) {
            System.err.printf(Locale.ROOT, "warning: image %s is %dx%d, %,d pixels, over half the limit of %,d%n", file, width, height, pixels, max);
        }
        return pixels;
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static InputFileException tooLarge(Path file, String what, long size, long max) {
        return new InputFileException(String.format(Locale.ROOT, "%s %s is too large: %s, the limit is %s", what, file, bytes(size), bytes(max)));
    }

    private static InputFileException longLine(Path file, String what, int line, int max) {
        return new InputFileException(String.format(Locale.ROOT, "%s %s, line %d: longer than %,d characters", what, file, line, max));
    }

    static String bytes(long n) {
        if (n < 1024) return n + " bytes";
        if (n < 1 << 20) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        if (n < 1 << 30) return String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
        return String.format(Locale.ROOT, "%.1f GiB", n / 1073741824.0);
    }

    private static CharsetDecoder utf8() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    }

    /** Where the first undecodable byte of the line is, for the message. */
    private static String firstBadByte(byte[] bytes, int start, int stop) {
        CharsetDecoder utf8 = utf8();
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

    static String kind(Path file, BasicFileAttributes a) {
        if (a.isDirectory()) return "a directory";
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode");
            switch (mode & 0170000) { // S_IFMT
                case 0010000: return "a FIFO (named pipe)";
                case 0020000: return "a character device";
                case 0060000: return "a block device";
                case 0140000: return "a socket";
                default: break;
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            // no unix view on this platform: the generic name below will do
        }
        return "a special file";
    }
}
