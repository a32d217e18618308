package dev.dit4j.bindings;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shim's lookup rules, and the real load (this build's shim, through DIT4J_SHIM). */
class NativeLoaderTest {
    @TempDir
    Path dir;

    private NativeLoader.Shim locate(Map<String, String> props, Map<String, String> env, ClassLoader loader) {
        return NativeLoader.locateShim(props::get, env::get, new NativeCache(dir.resolve("cache")), loader);
    }

    private static ClassLoader nothing() {
        return new URLClassLoader(new URL[0], null);
    }

    @Test
    void thePackagedShimIsExtractedIntoTheCache() throws IOException {
        Path jar = dir.resolve("jar").resolve("dev/dit4j/native/" + NativeLoader.platform());
        Files.createDirectories(jar);
        Files.write(jar.resolve("libdit4j.so"), new byte[] {1, 2, 3});
        Files.writeString(jar.resolve("dit4j-native.properties"), "libtorch.version=2.13.0+cpu\nlibtorch.cuda=false\n");
        try (var loader = new URLClassLoader(new URL[] {dir.resolve("jar").toUri().toURL()}, null)) {
            NativeLoader.Shim shim = locate(Map.of(), Map.of(), loader);
            assertEquals("2.13.0+cpu", shim.libtorchVersion());
            assertTrue(shim.path().startsWith(dir.resolve("cache/native")), shim.path().toString());
            assertEquals("libdit4j.so", shim.path().getFileName().toString());
            assertTrue(shim.rule().endsWith(", extracted now in " + dir.resolve("cache")), shim.rule());
            assertTrue(locate(Map.of(), Map.of(), loader).rule().endsWith(", cached in " + dir.resolve("cache")));
        }
    }

    @Test
    void withoutTheNativeJarTheMessageNamesTheDependency() {
        var e = assertThrows(IllegalStateException.class, () -> locate(Map.of(), Map.of(), nothing()));
        assertEquals("dit4j's native library for " + NativeLoader.platform() + " is not on the classpath: add the dependency "
                + "dev.dit4j:dit4j-native with <classifier>" + NativeLoader.platform() + "</classifier> (README, \"Use dit4j in "
                + "your project\"), or set -Ddit4j.shim=<path to libdit4j.so>", e.getMessage());
    }

    @Test
    void thePropertyThenTheVariableOverrideThePackagedShim() throws IOException {
        Path a = Files.createDirectories(dir.resolve("a")).resolve("libdit4j.so");
        Path b = Files.createDirectories(dir.resolve("b")).resolve("libdit4j.so");
        Files.write(a, new byte[] {1});
        Files.write(b, new byte[] {2});
        Files.writeString(dir.resolve("a/dit4j-native.properties"), "libtorch.version=2.13.0+cpu\n");
        NativeLoader.Shim shim = locate(Map.of("dit4j.shim", a.toString()), Map.of("DIT4J_SHIM", b.toString()), nothing());
        assertEquals(new NativeLoader.Shim(a, "2.13.0+cpu", "system property dit4j.shim"), shim);
        shim = locate(Map.of(), Map.of("DIT4J_SHIM", b.toString()), nothing());
        assertEquals(new NativeLoader.Shim(b, null, "environment variable DIT4J_SHIM"), shim); // no properties beside it
    }

    @Test
    void anOverrideThatIsNoFileFailsAtOnce() {
        var e = assertThrows(IllegalStateException.class, () -> locate(Map.of(), Map.of("DIT4J_SHIM", "/no/libdit4j.so"), nothing()));
        assertEquals("environment variable DIT4J_SHIM=/no/libdit4j.so is not a file: point it at a built libdit4j.so "
                + "(native/build.sh writes native/build/libdit4j.so), or unset it to use the one in the dit4j-native jar", e.getMessage());
    }

    /** The real loader, with a libtorch of another version than this build's shim: refused before anything is loaded. */
    @Test
    void aLibtorchVersionMismatchFailsAtOnce() throws IOException {
        Path old = dir.resolve("torch");
        Files.createDirectories(old.resolve("lib"));
        Files.createFile(old.resolve("lib/libtorch.so"));
        Files.writeString(old.resolve("version.py"), "__version__ = '2.5.1+cpu'\n");
        Map<String, String> props = Map.of("dit4j.shim", System.getenv("DIT4J_SHIM"), "dit4j.libtorch", old.toString());
        var e = assertThrows(IllegalStateException.class, () -> NativeLoader.load(props::get, System::getenv));
        assertTrue(e.getMessage().startsWith("system property dit4j.libtorch=" + old + " is libtorch 2.5.1+cpu, but dit4j's "
                + "native library was built for libtorch 2.13.0: set LIBTORCH"), e.getMessage());
    }

    @Test
    void theRealLoadSaysWhatItLoadedAndWhy() {
        NativeLoader.Info info = NativeLoader.load();
        assertEquals("environment variable DIT4J_SHIM", info.shimSource()); // set by this build (the parent pom)
        assertEquals("2.13.0", LibtorchLocator.base(info.libtorchVersion()));
        assertEquals("2.13.0", LibtorchLocator.base(info.shimTorchVersion()));
        List<Path> loaded = info.loaded();
        assertEquals("libc10.so", loaded.get(0).getFileName().toString());
        assertEquals("libtorch.so", loaded.get(loaded.size() - 2).getFileName().toString());
        assertEquals(info.shim(), loaded.get(loaded.size() - 1));
        assertTrue(info.libtorchSource() != null && !info.libtorchSource().isBlank());
    }

    /** A LIBTORCH of zero-byte or garbage libraries: one message naming the file, the reason in words, where it came from and what to set. */
    @Test
    void aBrokenLibtorchSaysWhichFileWhyAndWhatToSet() throws IOException {
        Path root = dir.resolve("torch");
        Path lib = Files.createDirectories(root.resolve("lib"));
        for (String name : List.of("libc10.so", "libtorch_cpu.so", "libtorch.so")) Files.write(lib.resolve(name), new byte[0]);
        LibtorchLocator.Found found = new LibtorchLocator.Found(root, "2.13.0+cpu", "environment variable LIBTORCH");
        NativeLoader.Shim shim = new NativeLoader.Shim(dir.resolve("libdit4j.so"), "2.13.0+cpu", "test");
        var e = assertThrows(IllegalStateException.class, () -> NativeLoader.load(shim, found));
        assertTrue(e.getMessage().startsWith("libtorch library " + lib.resolve("libc10.so") + " is empty (0 bytes): " + root
                + " (from the environment variable LIBTORCH)"), e.getMessage());
        assertTrue(e.getMessage().contains("set LIBTORCH to a complete libtorch") && e.getMessage().contains("dit4j doctor"), e.getMessage());

        Files.write(lib.resolve("libc10.so"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        e = assertThrows(IllegalStateException.class, () -> NativeLoader.load(shim, found));
        assertTrue(e.getMessage().startsWith("cannot load libtorch library " + lib.resolve("libc10.so") + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("UnsatisfiedLinkError"), e.getMessage());
        assertTrue(e.getMessage().contains("set LIBTORCH"), e.getMessage());
    }
}
