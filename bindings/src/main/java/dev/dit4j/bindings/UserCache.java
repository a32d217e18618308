package dev.dit4j.bindings;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * dit4j's per-user cache folder, where everything it fetches or unpacks once lives (libtorch, the
 * extracted shim, tokenizer vocabularies, example data): {@code $XDG_CACHE_HOME/dit4j} when that
 * variable is an absolute path (as the XDG specification asks), else {@code ~/.cache/dit4j}.
 */
public final class UserCache {
    private UserCache() {}

    /** The folder for this process's environment. */
    public static Path dir() {
        return dir(System::getenv);
    }

    /** The folder for the given environment. */
    static Path dir(Function<String, String> env) {
        String xdg = env.apply("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("dit4j");
    }
}
