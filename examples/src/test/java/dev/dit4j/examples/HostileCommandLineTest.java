package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Hostile inputs on the command line, generated here: each ends, within seconds, in one line
 * {@code dit4j <command>: <reason>} naming the file, exit 1, no stack trace.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileCommandLineTest {
    @TempDir
    Path dir;

    private String refused(String command, String file, String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new Failures(false).install(new CommandLine(new Main()));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        String text = err.toString().strip();
        assertEquals(1, code, text);
        assertFalse(text.contains("\n"), "one line: " + text);
        assertTrue(text.startsWith("dit4j " + command + ": "), text);
        assertTrue(text.contains(file), "names " + file + ": " + text);
        assertFalse(text.contains("Exception"), "no exception names: " + text);
        return text;
    }

    @Test
    void tokenizeRefusesFifosEmptyFilesAndBombs() throws Exception {
        Path fifo = dir.resolve("captions.txt");
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo is available");
        String out = dir.resolve("ids.safetensors").toString();
        Path vocab = dir.resolve("vocab.txt.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(vocab))) {
            o.write("#version\n".getBytes(StandardCharsets.US_ASCII));
            o.write(new byte[8 << 20]); // one 8 MB line of zero bytes
        }
        assertTrue(refused("tokenize", fifo.toString(), "tokenize", "--vocab", vocab.toString(), "--captions", fifo.toString(), "--out", out)
                .contains("FIFO"));
        Path empty = Files.writeString(dir.resolve("empty.txt"), "");
        assertTrue(refused("tokenize", empty.toString(), "tokenize", "--vocab", vocab.toString(), "--captions", empty.toString(), "--out", out)
                .contains("is empty"));
        Path captions = Files.writeString(dir.resolve("c.txt"), "a cat\n");
        assertTrue(refused("tokenize", vocab.toString(), "tokenize", "--vocab", vocab.toString(), "--captions", captions.toString(), "--out", out)
                .contains("longer than"));
        Path emptyVocab = Files.write(dir.resolve("empty.txt.gz"), new byte[0]);
        assertTrue(refused("tokenize", emptyVocab.toString(), "tokenize", "--vocab", emptyVocab.toString(), "--captions", captions.toString(), "--out", out)
                .contains("empty"));
        assertFalse(Files.exists(Path.of(out)));
    }
}
