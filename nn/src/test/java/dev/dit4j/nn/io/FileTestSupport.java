package dev.dit4j.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dit4j.nn.Torch;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Base for file-format tests: a fresh folder per test, and no native tensor may outlive the test. */
abstract class FileTestSupport {
    @TempDir
    Path dir;
    private long live;

    @BeforeEach
    void baseline() {
        live = Torch.liveTensors();
    }

    @AfterEach
    void noLeaks() {
        assertEquals(live, Torch.liveTensors(), "native tensors leaked by this test");
    }
}
