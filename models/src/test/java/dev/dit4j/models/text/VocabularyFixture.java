package dev.dit4j.models.text;

import dev.dit4j.bindings.UserCache;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * open_clip's vocabulary file, which dit4j does not ship, for the tests that need it: where
 * {@code DIT4J_CLIP_VOCAB} points, else where the command line caches it (examples'
 * OpenClipVocabularyFile fetches it once with pip). The library's tests fetch nothing: without
 * the file they are skipped, saying how to get it.
 */
public final class VocabularyFixture {
    private VocabularyFixture() {}

    public static Path path() {
        String override = System.getenv("DIT4J_CLIP_VOCAB");
        Path file = override != null && !override.isBlank() ? Path.of(override) : UserCache.dir().resolve(ClipVocabulary.OPEN_CLIP_FILE);
        if (!Files.isRegularFile(file)) {
            String why = "skipped: no " + file + ": set DIT4J_CLIP_VOCAB, or let the command line fetch it once"
                    + " (./dit4j tokenize --captions <file> --out <file>; examples' tests do it too)";
            System.err.println(why); // a class skipped in @BeforeAll is reported as 0 tests, without the reason
            Assumptions.abort(why);
        }
        return file;
    }
}
