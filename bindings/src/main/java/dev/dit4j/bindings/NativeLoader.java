package dev.dit4j.bindings;

import dev.dit4j.bindings.shim.Dit4jNative;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Loads exactly the libtorch that the shim was built against, then the shim, by absolute path
 * (a system libtorch elsewhere on the machine is never picked up), and checks the versions.
 *
 * <p>Where to look is read from {@code dit4j-native.properties}, written by native/build.sh:
 * the system property {@code dit4j.native.properties}, else the environment variable
 * {@code DIT4J_NATIVE_PROPERTIES}, else the copy packaged in this jar.
 */
public final class NativeLoader {
    /** What was loaded, for {@code doctor} and error messages. */
    public record Info(Path libtorchDir, Path libtorchLib, String libtorchVersion, String shimTorchVersion,
                       Path shim, boolean builtWithCuda, List<Path> loaded, Path cudnnLibrary, String cudnnStatus) {}

    private static final String RESOURCE = "/dev/dit4j/bindings/dit4j-native.properties";
    private static final Pattern VERSION = Pattern.compile("(\\d+\\.\\d+\\.\\d+)");
    private static volatile Info info;

    private NativeLoader() {}

    /** Loads libtorch and the shim once; later calls return what was loaded. */
    public static synchronized Info load() {
        if (info != null) return info;
        Properties props = readProperties();
        Path torchDir = Path.of(required(props, "libtorch.dir"));
        Path torchLib = Path.of(required(props, "libtorch.lib"));
        Path shim = Path.of(required(props, "shim.path"));
        String builtVersion = required(props, "libtorch.version");
        if (!Files.isRegularFile(shim)) {
            throw new IllegalStateException("dit4j's native library is missing at " + shim
                    + ": build it with 'mvn -pl native install' (native/build.sh), or point "
                    + "dit4j.native.properties at a build of it");
        }
        String installed = installedTorchVersion(torchDir);
        if (installed != null && !base(installed).equals(base(builtVersion))) {
            throw new IllegalStateException("libtorch at " + torchDir + " is now version " + installed
                    + " but dit4j's shim was built against " + builtVersion
                    + ": rebuild the shim (mvn -pl native install) or set LIBTORCH to a " + builtVersion + " install");
        }
        List<Path> loaded = new ArrayList<>();
        for (String name : List.of("libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so")) {
            Path lib = torchLib.resolve(name);
            if (Files.isRegularFile(lib)) {
                System.load(lib.toString());
                loaded.add(lib);
            } else if (!name.contains("cuda")) {
                throw new IllegalStateException("libtorch library " + lib + " is missing: is LIBTORCH (" + torchDir
                        + ") a complete libtorch? Rebuild with LIBTORCH set to one.");
            }
        }
        System.load(shim.toString());
        loaded.add(shim);
        String shimVersion = Dit4jNative.dt_torch_version().getString(0);
        if (!base(shimVersion).equals(base(builtVersion))) {
            throw new IllegalStateException("dit4j's shim at " + shim + " was compiled against libtorch " + shimVersion
                    + " but is configured for " + builtVersion + " at " + torchDir + ": rebuild it (mvn -pl native install)");
        }
        boolean cuda = Dit4jNative.dt_built_with_cuda() == 1;
        Path cudnn = null;
        String cudnnStatus;
        try {
            cudnn = findCudnn(props, torchDir);
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
        info = new Info(torchDir, torchLib, installed != null ? installed : builtVersion, shimVersion, shim, cuda,
                List.copyOf(loaded), cudnn, cudnnStatus);
        return info;
    }

    private static Properties readProperties() {
        Properties props = new Properties();
        String override = System.getProperty("dit4j.native.properties", System.getenv("DIT4J_NATIVE_PROPERTIES"));
        try {
            if (override != null && !override.isBlank()) {
                try (Reader r = Files.newBufferedReader(Path.of(override))) {
                    props.load(r);
                }
                return props;
            }
            try (InputStream in = NativeLoader.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("dit4j-native.properties is not on the classpath: build the project "
                            + "with Maven (it runs native/build.sh), or set -Ddit4j.native.properties=<file>");
                }
                props.load(in);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read dit4j-native.properties: " + e.getMessage(), e);
        }
        return props;
    }

    private static String required(Properties props, String key) {
        String value = props.getProperty(key);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("dit4j-native.properties has no '" + key + "': rebuild with native/build.sh");
        }
        return value.trim();
    }

    /** The version the torch install says of itself now (python package or libtorch zip). */
    private static String installedTorchVersion(Path torchDir) {
        for (Path candidate : List.of(torchDir.resolve("version.py"), torchDir.resolve("build-version"))) {
            try {
                if (!Files.isRegularFile(candidate)) continue;
                for (String line : Files.readAllLines(candidate)) {
                    if (candidate.endsWith("version.py") && !line.startsWith("__version__")) continue;
                    Matcher m = VERSION.matcher(line);
                    if (m.find()) return line.contains("'") ? line.split("'")[1] : line.trim();
                }
            } catch (IOException ignored) {
                // unreadable version file: fall back to the version recorded at build time
            }
        }
        return null;
    }

    private static String base(String version) {
        Matcher m = VERSION.matcher(version);
        return m.find() ? m.group(1) : version;
    }

    /**
     * libcudnn.so is a small front that loads libcudnn_graph and the other parts on first use, and
     * aborts the process (not an error code) when they are missing: only a complete install counts.
     */
    private static Path findCudnn(Properties props, Path torchDir) throws IOException {
        Path found = findCudnnFront(props, torchDir);
        if (found == null) return null;
        try (Stream<Path> files = Files.list(found.getParent())) {
            if (files.noneMatch(f -> f.getFileName().toString().startsWith("libcudnn_graph.so"))) {
                throw new IOException(found + " has no libcudnn_graph beside it (an incomplete cuDNN install)");
            }
        }
        return found;
    }

    private static Path findCudnnFront(Properties props, Path torchDir) throws IOException {
        String configured = props.getProperty("cudnn.lib", "").trim();
        if (!configured.isEmpty() && Files.isRegularFile(Path.of(configured))) return Path.of(configured);
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
