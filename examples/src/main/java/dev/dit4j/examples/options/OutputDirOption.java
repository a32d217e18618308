package dev.dit4j.examples.options;

import java.nio.file.Path;
import java.util.function.Supplier;
import picocli.CommandLine.Option;

/**
 * {@code --out}: the folder a training run writes into. A command whose default depends on other
 * options creates it with {@link #derivedDefault()} and describes that default under {@code out}
 * in its resource bundle.
 */
public final class OutputDirOption {
    @Option(names = "--out", description = "output directory (default ${DEFAULT-VALUE})")
    private Path out;

    public OutputDirOption(Path defaultDir) {
        this.out = defaultDir;
    }

    private OutputDirOption() {}

    /** No default of its own: {@link #dir(Supplier)} works it out when --out is not given. */
    public static OutputDirOption derivedDefault() {
        return new OutputDirOption();
    }

    /** The folder; only for an option made with a default. */
    public Path dir() {
        if (out == null) throw new IllegalStateException("--out has no default here: use dir(derived)");
        return out;
    }

    /** The given folder, else {@code derived}'s. */
    public Path dir(Supplier<Path> derived) {
        return out != null ? out : derived.get();
    }
}
