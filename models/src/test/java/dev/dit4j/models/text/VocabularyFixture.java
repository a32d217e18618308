package dev.dit4j.models.text;

import dev.dit4j.bindings.UserCache;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * open_clip's vocabulary file, which dit4j does not ship, for the tests that need it: where
 * {@code DIT4J_CLIP_VOCAB} points, else in the user cache, where the build puts it before the
 * tests run (models/src/test/fetch-clip-vocab.sh, at process-test-resources; the library itself
 * starts no processes). Without the file the tests fail, saying how to get it.
 */
public final class VocabularyFixture {
    private VocabularyFixture() {}

    public static Path path() {
        String override = System.getenv("DIT4J_CLIP_VOCAB");
        Path file = override != null && !override.isBlank() ? Path.of(override) : UserCache.dir().resolve(ClipVocabulary.OPEN_CLIP_FILE);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no open_clip vocabulary at " + file + ": run models/src/test/fetch-clip-vocab.sh"
                    + " (the build runs it before the tests; it needs python3 with pip, or an installed open_clip),"
                    + " or set DIT4J_CLIP_VOCAB to the file");
        }
        return file;
    }
}
