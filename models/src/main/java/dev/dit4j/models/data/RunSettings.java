package dev.dit4j.models.data;

import dev.dit4j.nn.io.AtomicFiles;
import dev.dit4j.nn.io.InputFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The settings a resumable run's outputs depend on, kept as {@code key=value} lines in its output
 * folder: the first run writes them, a later run into the same folder must match them, so that a
 * resumed run never mixes the outputs of two different runs ({@link LatentExtraction}'s shards,
 * a sampling run's images).
 */
public final class RunSettings {
    private RunSettings() {}

    private static final String AFRESH = "write to another folder, or delete it (and the outputs beside it) to start afresh";

    /** Writes {@code settings} to {@code file} on a first run; refuses other settings than the saved ones, naming each. */
    public static void check(Path file, Map<String, String> settings) {
        if (!InputFiles.exists(file)) {
            StringBuilder text = new StringBuilder();
            new TreeMap<>(settings).forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
            byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
            AtomicFiles.write(file, ch -> ch.write(ByteBuffer.wrap(bytes)));
            return;
        }
        Map<String, String> saved = new TreeMap<>();
        List<String> lines = InputFiles.readLines(file, "settings file", InputFiles.MAX_CONFIG_BYTES, 1 << 16);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int eq = line.indexOf('=');
            if (eq <= 0) {
                if (line.isBlank()) continue;
                throw new IllegalArgumentException("settings file " + file + ", line " + (i + 1) + ": " + InputFiles.quote(line)
                        + " is not key=value: the file is damaged; " + AFRESH);
            }
            saved.put(line.substring(0, eq), line.substring(eq + 1));
        }
        List<String> missing = settings.keySet().stream().filter(k -> !saved.containsKey(k)).sorted().toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("settings file " + file + " is damaged or from another version: it lacks "
                    + String.join(", ", missing) + "; " + AFRESH);
        }
        List<String> differ = new ArrayList<>();
        new TreeMap<>(settings).forEach((k, v) -> {
            if (!v.equals(saved.get(k))) differ.add(k + " " + saved.get(k) + " there, " + v + " now");
        });
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException(file.getParent() + " holds the outputs of another run (" + String.join("; ", differ)
                    + "): write to another folder, or use that run's settings to continue it");
        }
    }
}
