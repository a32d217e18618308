package dev.dit4j.examples.options;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Refuses, as a usage error before any work, an output that would overwrite one of the command's
 * own inputs (e.g. {@code parity --out} equal to {@code --weights}).
 */
public final class OutputPaths {
    private OutputPaths() {}

    /** Throws a usage error when {@code out} is the same file or folder as {@code in} (either may be null: nothing to check). */
    public static void requireDistinct(CommandSpec spec, String outWhat, Path out, String inWhat, Path in) {
        if (out != null && in != null && same(out, in)) {
            throw new ParameterException(spec.commandLine(), outWhat + " " + out + " is the same file as " + inWhat + " " + in
                    + ": refusing to overwrite an input; write the output elsewhere");
        }
    }

    /** Throws a usage error when the folder {@code dir} exists as something other than a folder. */
    public static void requireFolder(CommandSpec spec, String what, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ParameterException(spec.commandLine(), what + " " + dir + " is a file, not a folder to write into");
        }
    }

    /** The same file when both exist (links and hard links included); else the same place once normalised. */
    static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
            return resolved(a).equals(resolved(b));
        } catch (IOException e) {
            return resolved(a).equals(resolved(b));
        }
    }

    /** The real path of the deepest existing ancestor, with the rest of the path appended. */
    private static Path resolved(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        for (Path existing = abs; existing != null; existing = existing.getParent()) {
            try {
                return existing.toRealPath().resolve(existing.relativize(abs));
            } catch (IOException e) {
                // this ancestor does not exist either: try its parent
            }
        }
        return abs;
    }
}
