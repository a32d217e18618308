package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A failure is one line naming the command and the reason; the stack trace only when asked for. */
class FailuresTest {
    @TempDir
    Path dir;

    private String[] run(boolean verbose, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new Failures(verbose).install(new CommandLine(new Main()));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new String[] {Integer.toString(code), err.toString()};
    }

    @Test
    void aRefusalIsOneLineNamingTheCommand() {
        String missing = dir.resolve("none.pt").toString();
        String[] r = run(false, "sample", "--model", "DiT-S/2", "--weights", missing, "--out", dir.resolve("o").toString());
        assertEquals("1", r[0]);
        String[] lines = r[1].strip().split("\n");
        assertEquals(1, lines.length, r[1]);
        assertTrue(lines[0].startsWith("dit4j sample: ") && lines[0].contains(missing), lines[0]);
        String[] verbose = run(true, "sample", "--model", "DiT-S/2", "--weights", missing, "--out", dir.resolve("o").toString());
        assertTrue(verbose[1].contains("\tat "), "--verbose adds the stack trace");
        assertEquals("2", run(false, "sample", "--no-such-flag")[0], "usage errors keep status 2");
    }

    @Test
    void theReasonIsTheInnermostMessage() {
        Throwable init = new ExceptionInInitializerError(new IllegalStateException("libtorch not found: set LIBTORCH"));
        assertEquals("libtorch not found: set LIBTORCH", Failures.message(init));
        assertEquals("FileSystemLoopException: /a/b", Failures.message(new java.io.UncheckedIOException(new java.nio.file.FileSystemLoopException("/a/b"))
                .getCause()));
        assertTrue(Failures.message(new OutOfMemoryError("Java heap space")).startsWith("out of memory"));
        assertTrue(Failures.verbose(new String[] {"train", "--verbose"}, Map.of()));
        assertTrue(Failures.verbose(new String[] {}, Map.of("DIT4J_DEBUG", "1")));
        assertFalse(Failures.verbose(new String[] {"train"}, Map.of()));
    }
}
