package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Only the bindings module touches jextract's raw bindings; everything else goes through LibTorch. */
class BoundaryTest {
    @Test
    void noModuleOutsideBindingsImportsRawBindings() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<Path> offenders;
        try (Stream<Path> files = Files.walk(root)) {
            offenders = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !root.relativize(p).startsWith("bindings"))
                    .filter(p -> !p.toString().contains("/target/"))
                    .filter(BoundaryTest::usesRawBindings)
                    .toList();
        }
        assertTrue(Files.isDirectory(root.resolve("bindings")), "run from a module of the dit4j tree");
        assertEquals(List.of(), offenders, "files that import the generated shim or cuDNN bindings directly");
    }

    private static boolean usesRawBindings(Path p) {
        try {
            String text = Files.readString(p);
            String raw = "dev.dit4j.bindings."; // split so that this file does not match itself
            return text.contains(raw + "shim") || text.contains(raw + "cudnn");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
