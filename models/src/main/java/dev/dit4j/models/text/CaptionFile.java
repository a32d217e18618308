package dev.dit4j.models.text;

import dev.dit4j.nn.io.InputFiles;
import java.nio.file.Path;
import java.util.List;

/** A caption file: UTF-8 text, one caption per line ("\n"; a "\r" before it is dropped; a last empty line does not count). */
public final class CaptionFile {
    private CaptionFile() {}

    /**
     * The captions of {@code file}; a special file (a FIFO), a file over {@link InputFiles#MAX_TEXT_BYTES},
     * a line over {@link InputFiles#MAX_LINE_CHARS} or invalid UTF-8 is an error naming the file
     * (and line). An empty line is an empty caption.
     */
    public static List<String> read(Path file) {
        return read(file, "caption file");
    }

    /** As {@link #read(Path)}, naming the file as {@code what} ("manifest", "prompt file") in errors. */
    public static List<String> read(Path file, String what) {
        return InputFiles.readLines(file, what, InputFiles.MAX_TEXT_BYTES, InputFiles.MAX_LINE_CHARS);
    }
}
