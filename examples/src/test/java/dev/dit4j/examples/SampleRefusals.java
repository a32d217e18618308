package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** Checks that {@code sample} refuses a command line with a message naming the problem. */
final class SampleRefusals {
    private SampleRefusals() {}

    /** Runs {@code sample args --out DIR/out}: it must fail and its error output contain {@code expected}. */
    static void assertRefused(Path dir, String expected, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--out", dir.resolve("out").toString()));
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Sample());
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(all.toArray(String[]::new));
        assertNotEquals(0, code, String.join(" ", args));
        assertTrue(err.toString().contains(expected), "expected '" + expected + "' in: " + err);
    }
}
