package dev.dit4j.nn.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes a file so that readers see either the old file or the complete new one, never a torn one.
 * The new contents go to {@code .<name>.<random>.tmp} beside the target, locked while written; a
 * write first deletes the unlocked temporary files of the same target that a killed writer left.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Temporary files this JVM is writing. Their cleanup must not even open them: closing any
     * channel of a file drops every POSIX lock the process holds on it, the writer's included.
     */
    private static final Set<Path> WRITING = ConcurrentHashMap.newKeySet();

    /** Something that writes the whole file's contents to a channel. */
    @FunctionalInterface
    public interface Writer {
        void write(FileChannel channel) throws IOException;
    }

    public static void write(Path target, Writer writer) {
        Path dir = target.toAbsolutePath().getParent();
        String prefix = "." + target.getFileName() + ".";
        Path tmp = null;
        try {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                String at = e instanceof java.nio.file.FileSystemException f && f.getFile() != null && !Path.of(f.getFile()).equals(dir)
                        ? " (at " + f.getFile() + ")" : "";
                throw new CheckpointException("cannot write " + target + ": cannot create its folder " + dir + at + ": " + reason(e), e);
            }
            deleteLeftovers(dir, prefix);
            FileChannel ch = null;
            while (ch == null) {
                tmp = Files.createTempFile(dir, prefix, ".tmp");
                WRITING.add(tmp);
                ch = openLocked(tmp);
            }
            try (FileChannel locked = ch) {
                keepPermissions(tmp, target);
                writer.write(locked);
                locked.force(true);
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            WRITING.remove(tmp);
            tmp = null;
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // make the rename itself durable
            } catch (IOException ignored) {
                // some file systems cannot sync directories; the data itself is already synced
            }
        } catch (IOException e) {
            String at = e instanceof java.nio.file.FileSystemException f && f.getFile() != null && !Path.of(f.getFile()).startsWith(dir) ? " (at " + f.getFile() + ")" : "";
            throw new CheckpointException("cannot write " + target + at + ": " + reason(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort cleanup; the next write of this target retries
                } finally {
                    WRITING.remove(tmp);
                }
            }
        }
    }

    /**
     * Opens a new temporary file and locks it for the whole write; null when another writer's
     * cleanup deleted it between its creation and the lock (then the caller makes another).
     */
    private static FileChannel openLocked(Path tmp) throws IOException {
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
        try {
            ch.lock();
            if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) return ch; // locked, so no cleanup can delete it now
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        ch.close();
        WRITING.remove(tmp);
        return null;
    }

    /** Deletes the target's temporary files that no live writer holds locked (a killed writer's lock is gone). */
    private static void deleteLeftovers(Path dir, String prefix) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir,
                p -> p.getFileName().toString().startsWith(prefix) && p.getFileName().toString().endsWith(".tmp"))) {
            for (Path leftover : files) {
                if (WRITING.contains(leftover) || !Files.isRegularFile(leftover, LinkOption.NOFOLLOW_LINKS)) continue;
                deleteIfUnlocked(leftover);
            }
        }
    }

    private static void deleteIfUnlocked(Path leftover) {
        try (FileChannel ch = FileChannel.open(leftover, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            FileLock lock = ch.tryLock();
            if (lock == null) return; // another process is writing it
            Files.deleteIfExists(leftover); // while locked: its writer, if any, sees it gone and makes another
        } catch (IOException | OverlappingFileLockException e) {
            // not ours to open, gone already, or locked here: leave it
        }
    }

    /**
     * A temporary file is created owner-only; the file it replaces keeps its permissions, and a new
     * one gets rw-r--r--, as a file written in place would under the usual umask.
     */
    private static void keepPermissions(Path tmp, Path target) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
        if (view == null) return; // not a POSIX file system
        view.setPermissions(Files.exists(target) ? Files.getPosixFilePermissions(target) : PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** An I/O error's reason in words, "permission denied" rather than the path NIO gives as the message. */
    private static String reason(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
            if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
            if (e instanceof java.nio.file.NoSuchFileException) return "no such file or folder";
            if (e instanceof java.nio.file.FileAlreadyExistsException) return "a file of that name is in the way";
            if (e instanceof java.nio.file.NotDirectoryException) return "not a folder";
            return "the file system refused (" + e.getClass().getSimpleName() + ")";
        }
        return CheckpointFiles.reason(e);
    }
}
