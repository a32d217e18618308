package dev.dit4j.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Function;

/**
 * The per-user cache of dit4j's native files ({@link UserCache}). Files packaged in jars are extracted into {@code native/<sha256>/}, keyed
 * by the SHA-256 of their content, so two dit4j versions never share a file and a file is never
 * rewritten in place. Extraction is safe for several JVMs at once (a file lock, then a temporary
 * file renamed atomically into place), and a cached file whose content no longer matches its key
 * (truncated, edited) is replaced.
 */
final class NativeCache {
    /** An extracted file, and whether this call wrote it (false: it was already cached). */
    record Extracted(Path path, boolean written) {}

    private final Path root;

    NativeCache(Path root) {
        this.root = root;
    }

    /** The cache of this user, from the given environment. */
    static NativeCache forUser(Function<String, String> env) {
        return new NativeCache(UserCache.dir(env));
    }

    Path root() {
        return root;
    }

    /** The resource {@code resource} of {@code loader} as the file {@code native/<sha256>/<name>}. */
    Extracted extract(ClassLoader loader, String resource, String name) {
        byte[] content;
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("the resource " + resource + " is not on the classpath");
            content = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the resource " + resource + ": " + e.getMessage(), e);
        }
        return extract(content, name);
    }

    /** {@code content} as the file {@code native/<sha256>/<name>}, written only when missing or damaged. */
    Extracted extract(byte[] content, String name) {
        String sha = sha256(content);
        Path dir = root.resolve("native").resolve(sha);
        Path target = dir.resolve(name);
        if (matches(target, sha)) return new Extracted(target, false);
        try {
            Files.createDirectories(dir);
            // One lock per key across JVMs; the same JVM never extracts concurrently (synchronized).
            synchronized (NativeCache.class) {
                try (FileChannel lockFile = FileChannel.open(dir.resolveSibling(sha + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock lock = lockFile.lock()) {
                    if (matches(target, sha)) return new Extracted(target, false); // another JVM wrote it meanwhile
                    Path tmp = Files.createTempFile(dir, name, ".part");
                    try {
                        Files.write(tmp, content);
                        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                        move(tmp, target);
                    } finally {
                        Files.deleteIfExists(tmp);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + " (dit4j's native cache; set XDG_CACHE_HOME to "
                    + "a writable directory): " + e.getMessage(), e);
        }
        return new Extracted(target, true);
    }

    /** A rename, so a JVM that has the old (damaged) file mapped keeps it and no reader sees half a file. */
    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static boolean matches(Path file, String sha) {
        try {
            return Files.isRegularFile(file) && sha256(Files.readAllBytes(file)).equals(sha);
        } catch (IOException e) {
            return false;
        }
    }

    static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }
}
