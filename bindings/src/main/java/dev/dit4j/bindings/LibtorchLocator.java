package dev.dit4j.bindings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the libtorch that dit4j loads at run time. The first rule that applies wins:
 * <ol>
 *   <li>the system property {@value #PROPERTY};
 *   <li>the environment variable {@value #ENV};
 *   <li>the libtorch inside the {@code torch} package that {@code python3} would import (skipped,
 *       with a note, when it is another version than the shim's);
 *   <li>the CPU build provisioned once with pip into the user cache ({@link Provisioner}).
 * </ol>
 * A property or variable may name a libtorch root (holding {@code lib/libtorch.so}: a LibTorch
 * zip or a python torch package directory) or the site-packages holding {@code torch/}. One that
 * does not, or whose version is not the shim's, fails at once with what to set or install.
 * native/build.sh applies the same rules at build time.
 */
final class LibtorchLocator {
    static final String PROPERTY = "dit4j.libtorch";
    static final String ENV = "LIBTORCH";

    /** The libtorch found: its root, its version (null when it does not say), and the rule that matched. */
    record Found(Path root, String version, String rule) {}

    /** Puts the CPU build of a libtorch version into the user cache and returns its root. */
    interface Provisioner {
        Path provision(String version);
    }

    private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+\\.\\d+)");
    private static final String FIND_TORCH = "import importlib.util, os; s = importlib.util.find_spec('torch'); "
            + "print(os.path.dirname(s.origin) if s and s.origin else '')";

    private final Function<String, String> properties;
    private final Function<String, String> env;
    private final String python;
    private final NativeCache cache;
    private final Provisioner provisioner;

    LibtorchLocator(Function<String, String> properties, Function<String, String> env, String python,
                    NativeCache cache, Provisioner provisioner) {
        this.properties = properties;
        this.env = env;
        this.python = python;
        this.cache = cache;
        this.provisioner = provisioner;
    }

    /** The libtorch for a shim built for {@code version} (null: the shim does not say). */
    Found locate(String version) {
        String property = properties.apply(PROPERTY);
        if (property != null && !property.isBlank()) return explicit(property, "system property " + PROPERTY, version);
        String variable = env.apply(ENV);
        if (variable != null && !variable.isBlank()) return explicit(variable, "environment variable " + ENV, version);
        List<String> skipped = new ArrayList<>();
        Found python = python(version, skipped);
        if (python != null) return python;
        return userCache(version, skipped);
    }

    private Found explicit(String value, String rule, String version) {
        Path root = root(Path.of(value));
        if (root == null) {
            throw new IllegalStateException(rule + "=" + value + " is not a libtorch: expected lib/libtorch.so in it or in "
                    + "its torch/ (a LibTorch zip root, a python torch package directory, or the site-packages holding one)");
        }
        String found = version(root);
        if (version != null && found != null && !base(found).equals(base(version))) {
            throw new IllegalStateException(rule + "=" + value + " is libtorch " + found + ", but dit4j's native library "
                    + "was built for libtorch " + base(version) + ": set " + ENV + " (or -D" + PROPERTY + ") to a libtorch "
                    + base(version) + " (CPU or CUDA build; 'pip install torch==" + base(version) + "' gives one), or unset it "
                    + "to use python3's torch " + base(version) + " or the CPU build that dit4j provisions into " + cache.root());
        }
        return new Found(root, found, rule);
    }

    private Found python(String version, List<String> skipped) {
        String dir;
        try {
            Process p = new ProcessBuilder(python, "-c", FIND_TORCH).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            dir = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                skipped.add(python + " failed to look for torch");
                return null;
            }
        } catch (IOException e) {
            skipped.add("no " + python + " on the PATH");
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking " + python + " for torch", e);
        }
        if (dir.isEmpty() || dir.contains("\n")) {
            skipped.add(python + " has no torch");
            return null;
        }
        Path root = root(Path.of(dir));
        if (root == null) {
            skipped.add(python + "'s torch at " + dir + " has no lib/libtorch.so");
            return null;
        }
        String found = version(root);
        if (version != null && found != null && !base(found).equals(base(version))) {
            skipped.add(python + "'s torch at " + dir + " is " + found + ", not " + base(version));
            return null;
        }
        return new Found(root, found, python + "'s torch");
    }

    private Found userCache(String version, List<String> skipped) {
        String why = ENV + " and -D" + PROPERTY + " are unset" + (skipped.isEmpty() ? "" : ", " + String.join(", ", skipped));
        if (version == null) {
            throw new IllegalStateException("no libtorch found (" + why + ") and dit4j's native library does not say which "
                    + "libtorch it needs, so none can be provisioned: set " + ENV + " to the libtorch it was built against");
        }
        String v = base(version);
        Path root = cache.root().resolve("libtorch-" + v + "+cpu").resolve("torch");
        String rule = "user cache (" + why + ")";
        if (root(root) == null) {
            try {
                root = provisioner.provision(v);
            } catch (RuntimeException e) {
                throw new IllegalStateException("no libtorch " + v + " for dit4j: " + why + ", and provisioning the CPU build "
                        + "torch==" + v + "+cpu into " + cache.root() + " failed: " + e.getMessage() + ". Set " + ENV
                        + " to a libtorch " + v + " (a LibTorch zip root or a python torch package directory, CPU or CUDA), "
                        + "or 'pip install torch==" + v + "' for python3", e);
            }
            rule = "user cache, provisioned now with pip (" + why + ")";
        }
        Path checked = root(root);
        if (checked == null) throw new IllegalStateException("provisioning torch==" + v + "+cpu left no lib/libtorch.so in " + root);
        return new Found(checked, version(checked), rule);
    }

    /** The libtorch root in {@code dir}: dir itself or dir/torch, whichever holds lib/libtorch.so. */
    static Path root(Path dir) {
        for (Path candidate : List.of(dir, dir.resolve("torch"))) {
            if (Files.isRegularFile(candidate.resolve("lib").resolve("libtorch.so"))) return candidate.toAbsolutePath().normalize();
        }
        return null;
    }

    /** The version a libtorch says of itself (python package: version.py; LibTorch zip: build-version), or null. */
    static String version(Path root) {
        for (Path candidate : List.of(root.resolve("version.py"), root.resolve("build-version"))) {
            try {
                if (!Files.isRegularFile(candidate)) continue;
                for (String line : Files.readAllLines(candidate)) {
                    if (candidate.endsWith("version.py") && !line.startsWith("__version__")) continue;
                    Matcher m = VERSION.matcher(line);
                    if (m.find()) return line.contains("'") ? line.split("'")[1] : line.trim();
                }
            } catch (IOException ignored) {
                // unreadable version file: the version is unknown
            }
        }
        return null;
    }

    /** major.minor.patch of a version such as 2.13.0+cpu. */
    static String base(String version) {
        Matcher m = VERSION.matcher(version);
        return m.find() ? m.group(1) : version;
    }
}
