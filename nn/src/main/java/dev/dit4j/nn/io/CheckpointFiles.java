package dev.dit4j.nn.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** What every checkpoint reader does before and while opening a file: refuse special files, and say why an open failed. */
final class CheckpointFiles {
    private CheckpointFiles() {}

    /**
     * Refuses anything but a regular file (a symlink to one is fine) before it is opened: opening a
     * FIFO blocks until someone writes to it, and a device or directory is never a checkpoint.
     */
    static void requireRegularFile(Path file, String what) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw cannotRead(file, what, e);
        }
        if (!a.isRegularFile()) throw new CheckpointException(what + " " + file + " is " + kind(file, a) + ", not a regular file");
    }

    /** "cannot read safetensors file w.safetensors: no such file": the path once, then the reason in words. */
    static CheckpointException cannotRead(Path file, String what, IOException e) {
        return new CheckpointException("cannot read " + what + " " + file + ": " + reason(e), e);
    }

    /** The reason of an I/O error without the path that NIO puts in its message. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "no such file";
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileSystemException f) return f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** An untrusted string for a message: quoted, and cut short so that a huge name cannot make a huge message. */
    static String quote(String s) {
        if (s.length() <= 200) return "'" + s + "'";
        return "'" + s.substring(0, 200) + "...' (" + s.length() + " chars)";
    }

    private static String kind(Path file, BasicFileAttributes a) {
        return InputFiles.kind(file, a);
    }
}
