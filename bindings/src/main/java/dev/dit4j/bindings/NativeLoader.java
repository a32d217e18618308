package dev.dit4j.bindings;

import dev.dit4j.bindings.shim.Dit4jNative;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Loads libtorch, then dit4j's shim, by absolute path and in an explicit order (a libtorch
 * elsewhere on the library path is never picked up), and checks that their versions agree.
 *
 * <p>The shim: the system property {@value #SHIM_PROPERTY}, else the environment variable
 * {@value #SHIM_ENV} (a {@code libdit4j.so}; a {@code dit4j-native.properties} beside it says the
 * libtorch version it was built for), else the one packaged for this platform in the artifact
 * {@code dev.dit4j:dit4j-native} with classifier {@code <os>-<arch>} (e.g. {@code linux-x86_64}),
 * extracted into the user cache ({@link NativeCache}). libtorch: see {@link LibtorchLocator}.
 * The shim built against a CPU libtorch also serves the CUDA build of the same version: its CUDA
 * libraries are loaded before libtorch.so when they are there.
 */
public final class NativeLoader {
    /**
     * What was loaded and why, for {@code doctor} and error messages. {@code builtWithCuda}: the
     * loaded libtorch has CUDA (libtorch_cuda was loaded). {@code shimSource} and
     * {@code libtorchSource} name the rule that chose each.
     */
    public record Info(Path libtorchDir, Path libtorchLib, String libtorchVersion, String shimTorchVersion,
                       Path shim, boolean builtWithCuda, List<Path> loaded, Path cudnnLibrary, String cudnnStatus,
                       String shimSource, String libtorchSource) {}

    static final String SHIM_PROPERTY = "dit4j.shim";
    static final String SHIM_ENV = "DIT4J_SHIM";
    static final String PROPERTIES = "dit4j-native.properties";
    private static final String PROVISION_SCRIPT = "dev/dit4j/bindings/provision-libtorch.sh";
    /** Dependency order: each library's NEEDED entries are already loaded when it is. */
    private static final List<String> LIBTORCH_LIBRARIES =
            List.of("libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so");

    private static volatile Info info;

    private NativeLoader() {}

    /** The shim to load: its file, the libtorch version it was built for (null: unknown), the rule. */
    record Shim(Path path, String libtorchVersion, String rule) {}

    /** Loads libtorch and the shim once; later calls return what was loaded. */
    public static synchronized Info load() {
        if (info != null) return info;
        info = load(System::getProperty, System::getenv);
        return info;
    }

    /** Finds and loads the shim and its libtorch with these system properties and environment. */
    static Info load(Function<String, String> properties, Function<String, String> env) {
        NativeCache cache = NativeCache.forUser(env);
        Shim shim = locateShim(properties, env, cache, NativeLoader.class.getClassLoader());
        LibtorchLocator.Found torch = new LibtorchLocator(properties, env, "python3", cache,
                version -> provision(cache, version)).locate(shim.libtorchVersion());
        return load(shim, torch);
    }

    /** {@code <os>-<arch>}, the classifier of the native artifact for this machine (linux-x86_64, linux-aarch64, ...). */
    public static String platform() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        os = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macos" : os.startsWith("windows") ? "windows" : os;
        arch = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return os + "-" + arch;
    }

    static Shim locateShim(Function<String, String> properties, Function<String, String> env, NativeCache cache,
                           ClassLoader loader) {
        String property = properties.apply(SHIM_PROPERTY);
        if (property != null && !property.isBlank()) return overrideShim(property, "system property " + SHIM_PROPERTY);
        String variable = env.apply(SHIM_ENV);
        if (variable != null && !variable.isBlank()) return overrideShim(variable, "environment variable " + SHIM_ENV);
        String platform = platform();
        String base = "dev/dit4j/native/" + platform + "/";
        URL props = loader.getResource(base + PROPERTIES);
        if (props == null) {
            throw new IllegalStateException("dit4j's native library for " + platform + " is not on the classpath: add the "
                    + "dependency dev.dit4j:dit4j-native with <classifier>" + platform + "</classifier> (README, \"Use dit4j "
                    + "in your project\"), or set -D" + SHIM_PROPERTY + "=<path to " + System.mapLibraryName("dit4j") + ">");
        }
        String version = readVersion(props);
        NativeCache.Extracted file = cache.extract(loader, base + System.mapLibraryName("dit4j"), System.mapLibraryName("dit4j"));
        String jar = props.getPath().replaceFirst("!/.*$", "").replaceFirst("^file:", "");
        return new Shim(file.path(), version, "packaged in " + jar + ", " + (file.written() ? "extracted now" : "cached")
                + " in " + cache.root());
    }

    private static Shim overrideShim(String value, String rule) {
        Path path = Path.of(value).toAbsolutePath().normalize();
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException(rule + "=" + value + " is not a file: point it at a built "
                    + System.mapLibraryName("dit4j") + " (native/build.sh writes native/build/" + System.mapLibraryName("dit4j")
                    + "), or unset it to use the one in the dit4j-native jar");
        }
        Path props = path.resolveSibling(PROPERTIES);
        String version = null;
        if (Files.isRegularFile(props)) {
            try {
                version = readVersion(props.toUri().toURL());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + props + ": " + e.getMessage(), e);
            }
        }
        return new Shim(path, version, rule);
    }

    private static String readVersion(URL props) {
        Properties p = new Properties();
        try (InputStream in = props.openStream(); Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + props + ": " + e.getMessage(), e);
        }
        String version = p.getProperty("libtorch.version", "").trim();
        if (version.isEmpty()) throw new IllegalStateException(props + " has no libtorch.version: rebuild it with native/build.sh");
        return version;
    }

    /** Runs provision-libtorch.sh (packaged in this jar, extracted into the cache) for {@code version}. */
    private static Path provision(NativeCache cache, String version) {
        Path script = cache.extract(NativeLoader.class.getClassLoader(), PROVISION_SCRIPT, "provision-libtorch.sh").path();
        System.err.println("dit4j: no libtorch " + version + " found; installing the CPU build torch==" + version
                + "+cpu with pip into " + cache.root() + " (once)...");
        try {
            Path log = Files.createTempFile("dit4j-provision", ".log");
            try {
                Process p = new ProcessBuilder("bash", script.toString(), version, cache.root().toString())
                        .redirectError(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                int rc = p.waitFor();
                if (rc != 0 || out.isEmpty()) {
                    List<String> lines = Files.readAllLines(log);
                    throw new IllegalStateException("provision-libtorch.sh exited with " + rc + ": "
                            + String.join(" | ", lines.subList(Math.max(0, lines.size() - 6), lines.size())));
                }
                String[] lines = out.split("\n");
                return Path.of(lines[lines.length - 1].trim());
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run bash " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while provisioning libtorch", e);
        }
    }

    /** What to do about a libtorch that cannot be loaded. */
    static final String LIBTORCH_FIX = "set " + LibtorchLocator.ENV + " to a complete libtorch (the folder holding lib/libtorch.so; "
            + "a pip torch's is python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))'), or unset it to use the user cache; "
            + "'dit4j doctor' shows where each part was looked for";

    /** Loads one library of libtorch, or says which file failed, why in words, where it came from and what to set. */
    static void loadTorchLibrary(Path lib, LibtorchLocator.Found torch) {
        long size = -1;
        try {
            size = Files.size(lib);
        } catch (IOException e) {
            // System.load says why below
        }
        String from = torch.root() + " (from the " + torch.rule() + ")";
        if (size == 0) {
            throw new IllegalStateException("libtorch library " + lib + " is empty (0 bytes): " + from + " is a broken or partial libtorch: " + LIBTORCH_FIX);
        }
        try {
            System.load(lib.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("cannot load libtorch library " + lib + ": " + linkReason(e) + "; " + from + " is not a working libtorch "
                    + "for this machine: " + LIBTORCH_FIX, e);
        }
    }

    /** The dynamic linker's reason without the paths it repeats ("file too short", "invalid ELF header"). */
    static String linkReason(UnsatisfiedLinkError e) {
        String m = e.getMessage();
        if (m == null) return "the dynamic linker refused it";
        int colon = m.lastIndexOf(": ");
        return colon >= 0 && colon + 2 < m.length() ? m.substring(colon + 2) : m;
    }

    static Info load(Shim shim, LibtorchLocator.Found torch) {
        Path torchLib = torch.root().resolve("lib");
        List<Path> loaded = new ArrayList<>();
        for (String name : LIBTORCH_LIBRARIES) {
            Path lib = torchLib.resolve(name);
            if (Files.isRegularFile(lib)) {
                loadTorchLibrary(lib, torch);
                loaded.add(lib);
            } else if (!name.contains("cuda")) {
                throw new IllegalStateException("libtorch library " + lib + " is missing: " + torch.root() + " (from the "
                        + torch.rule() + ") is not a complete libtorch");
            }
        }
        try {
            if (Files.size(shim.path()) == 0) {
                throw new IllegalStateException("dit4j's native library " + shim.path() + " (" + shim.rule() + ") is empty (0 bytes): rebuild it with "
                        + "native/build.sh, or unset " + SHIM_ENV + " / -D" + SHIM_PROPERTY + " to use the one in the dit4j-native jar");
            }
        } catch (IOException e) {
            // System.load says why below
        }
        try {
            System.load(shim.path().toString());
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("cannot load dit4j's native library " + shim.path() + " (" + shim.rule()
                    + ", built for libtorch " + (shim.libtorchVersion() == null ? "?" : shim.libtorchVersion()) + ") with libtorch "
                    + (torch.version() == null ? "?" : torch.version()) + " at " + torch.root() + " (" + torch.rule() + "): "
                    + e.getMessage(), e);
        }
        loaded.add(shim.path());
        String shimVersion = Dit4jNative.dt_torch_version().getString(0);
        String torchVersion = torch.version() != null ? torch.version() : shimVersion;
        if (!LibtorchLocator.base(shimVersion).equals(LibtorchLocator.base(torchVersion))) {
            throw new IllegalStateException("dit4j's native library " + shim.path() + " was compiled against libtorch "
                    + shimVersion + " but libtorch " + torchVersion + " was loaded from " + torch.root() + " (" + torch.rule()
                    + "): set " + LibtorchLocator.ENV + " to a libtorch " + LibtorchLocator.base(shimVersion));
        }
        boolean cuda = loaded.contains(torchLib.resolve("libtorch_cuda.so"));
        Path cudnn = null;
        String cudnnStatus;
        try {
            cudnn = findCudnn(torch.root());
            if (cudnn == null) {
                cudnnStatus = "not found (no libcudnn beside libtorch): cuDNN features are unavailable";
            } else {
                System.load(cudnn.toString());
                cudnnStatus = "loaded";
            }
        } catch (UnsatisfiedLinkError | IOException e) {
            cudnnStatus = "could not be loaded: " + e.getMessage();
            cudnn = null;
        }
        return new Info(torch.root(), torchLib, torchVersion, shimVersion, shim.path(), cuda, List.copyOf(loaded), cudnn,
                cudnnStatus, shim.rule(), torch.rule());
    }

    /**
     * libcudnn.so is a small front that loads libcudnn_graph and the other parts on first use, and
     * aborts the process (not an error code) when they are missing: only a complete install counts.
     */
    private static Path findCudnn(Path torchDir) throws IOException {
        Path found = findCudnnFront(torchDir);
        if (found == null) return null;
        try (Stream<Path> files = Files.list(found.getParent())) {
            if (files.noneMatch(f -> f.getFileName().toString().startsWith("libcudnn_graph.so"))) {
                throw new IOException(found + " has no libcudnn_graph beside it (an incomplete cuDNN install)");
            }
        }
        return found;
    }

    private static Path findCudnnFront(Path torchDir) throws IOException {
        List<Path> dirs = List.of(torchDir.resolve("lib"), torchDir.resolveSibling("nvidia").resolve("cudnn").resolve("lib"));
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> files = Files.list(dir)) {
                var hit = files.filter(f -> f.getFileName().toString().matches("libcudnn\\.so(\\.\\d+)*")).sorted().findFirst();
                if (hit.isPresent()) return hit.get();
            }
        }
        return null;
    }
}
