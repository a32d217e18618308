package dev.dit4j.examples;

import dev.dit4j.bindings.UserCache;
import dev.dit4j.models.text.ClipVocabulary;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * open_clip's {@code bpe_simple_vocab_16e6.txt.gz}, which dit4j does not ship: found where
 * {@code DIT4J_CLIP_VOCAB} points, else in the user cache ({@code $XDG_CACHE_HOME/dit4j} or
 * {@code ~/.cache/dit4j}), else copied once from the open_clip that python3 has installed or from
 * the open_clip_torch wheel that pip downloads (as the native build provisions libtorch), checked
 * against its known SHA-256.
 */
final class OpenClipVocabularyFile {
    private OpenClipVocabularyFile() {}

    static final String WHEEL = "open_clip_torch==3.3.0";
    static final String SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a";

    /** The file's path, provisioning it into the cache first when needed. */
    public static synchronized Path path() {
        String override = System.getenv("DIT4J_CLIP_VOCAB");
        if (override != null && !override.isBlank()) return Path.of(override);
        Path cached = UserCache.dir().resolve(ClipVocabulary.OPEN_CLIP_FILE);
        if (Files.isRegularFile(cached) && sha256(cached).equals(SHA256)) return cached;
        provision(cached);
        return cached;
    }

    private static void provision(Path target) {
        Path tmp = null;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempDirectory(target.getParent(), "open_clip.partial.");
            Path part = tmp.resolve(ClipVocabulary.OPEN_CLIP_FILE);
            Path installed = installedCopy(tmp);
            if (installed != null) {
                Files.copy(installed, part);
                if (sha256(part).equals(SHA256)) {
                    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    return;
                }
                Files.delete(part);
            }
            List<String> cmd = List.of("python3", "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp.toString(), WHEEL);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("pip.log").toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw failure("'" + String.join(" ", cmd) + "' failed (" + tail(tmp.resolve("pip.log")) + ")");
            }
            Path wheel;
            try (var files = Files.list(tmp)) {
                wheel = files.filter(f -> f.getFileName().toString().endsWith(".whl")).findFirst()
                        .orElseThrow(() -> failure("pip downloaded no wheel of " + WHEEL));
            }
            try (ZipFile zip = new ZipFile(wheel.toFile())) {
                ZipEntry entry = zip.getEntry("open_clip/" + ClipVocabulary.OPEN_CLIP_FILE);
                if (entry == null) throw failure(wheel + " holds no open_clip/" + ClipVocabulary.OPEN_CLIP_FILE);
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, part);
                }
            }
            String sum = sha256(part);
            if (!sum.equals(SHA256)) throw failure("the wheel's " + ClipVocabulary.OPEN_CLIP_FILE + " has SHA-256 " + sum + ", expected " + SHA256);
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw failure(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted");
        } finally {
            if (tmp != null) deleteTree(tmp);
        }
    }

    /** The file of an open_clip that python3 has installed, found without importing it (null when there is none). */
    private static Path installedCopy(Path tmp) throws IOException, InterruptedException {
        String script = "import importlib.util, os; s = importlib.util.find_spec('open_clip'); "
                + "print(os.path.dirname(s.origin) if s and s.origin else '')";
        Path log = tmp.resolve("find.log");
        Process p = new ProcessBuilder("python3", "-c", script).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            return null;
        }
        String dir = Files.readString(log).strip();
        if (dir.isEmpty()) return null;
        Path file = Path.of(dir, ClipVocabulary.OPEN_CLIP_FILE);
        return Files.isRegularFile(file) ? file : null;
    }

    private static IllegalStateException failure(String why) {
        return new IllegalStateException("cannot provision open_clip's " + ClipVocabulary.OPEN_CLIP_FILE + ": " + why
                + "; pass --vocab (that file, or Hugging Face's vocab.json + merges.txt or tokenizer.json) or set DIT4J_CLIP_VOCAB");
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" / ", lines.subList(Math.max(0, lines.size() - 2), lines.size()));
        } catch (IOException e) {
            return "no log";
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temp folder is harmless
        }
    }
}
