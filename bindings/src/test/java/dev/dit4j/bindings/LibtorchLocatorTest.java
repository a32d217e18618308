package dev.dit4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every rule of {@link LibtorchLocator}, on stand-in libtorch folders (nothing is loaded). */
class LibtorchLocatorTest {
    @TempDir
    Path dir;

    /** A folder that looks like a python torch package of the given version. */
    private Path fakeTorch(String name, String version) throws IOException {
        Path root = dir.resolve(name).resolve("torch");
        Files.createDirectories(root.resolve("lib"));
        Files.createFile(root.resolve("lib").resolve("libtorch.so"));
        Files.writeString(root.resolve("version.py"), "from typing import Optional\n__version__ = '" + version + "'\n");
        return root;
    }

    /** A python3 stand-in that prints where its torch is (or nothing). */
    private String fakePython(Path torch) throws IOException {
        Path script = dir.resolve("python3-" + (torch == null ? "none" : torch.getParent().getFileName()));
        Files.writeString(script, "#!/bin/sh\necho '" + (torch == null ? "" : torch) + "'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script.toString();
    }

    private LibtorchLocator locator(Map<String, String> props, Map<String, String> env, String python,
                                    LibtorchLocator.Provisioner provisioner) {
        return new LibtorchLocator(props::get, env::get, python, new NativeCache(dir.resolve("cache")), provisioner);
    }

    private static LibtorchLocator.Provisioner never() {
        return v -> {
            throw new AssertionError("provisioning must not run");
        };
    }

    @Test
    void thePropertyComesFirst() throws IOException {
        Path a = fakeTorch("a", "2.13.0+cpu");
        Path b = fakeTorch("b", "2.13.0+cpu");
        var found = locator(Map.of("dit4j.libtorch", a.toString()), Map.of("LIBTORCH", b.toString()), fakePython(null), never())
                .locate("2.13.0+cpu");
        assertEquals(a, found.root());
        assertEquals("system property dit4j.libtorch", found.rule());
        assertEquals("2.13.0+cpu", found.version());
    }

    @Test
    void thenTheEnvironmentVariableWhichMayNameSitePackages() throws IOException {
        Path b = fakeTorch("b", "2.13.0+cu128");
        var found = locator(Map.of(), Map.of("LIBTORCH", b.getParent().toString()), fakePython(null), never()).locate("2.13.0+cpu");
        assertEquals(b, found.root());
        assertEquals("environment variable LIBTORCH", found.rule());
    }

    @Test
    void aSettingThatIsNoLibtorchFailsAtOnce() {
        var e = assertThrows(IllegalStateException.class,
                () -> locator(Map.of(), Map.of("LIBTORCH", dir.toString()), fakePython(null), never()).locate("2.13.0+cpu"));
        assertTrue(e.getMessage().startsWith("environment variable LIBTORCH=" + dir + " is not a libtorch: expected lib/libtorch.so"),
                e.getMessage());
        e = assertThrows(IllegalStateException.class,
                () -> locator(Map.of("dit4j.libtorch", "/no/such/dir"), Map.of(), fakePython(null), never()).locate("2.13.0"));
        assertTrue(e.getMessage().startsWith("system property dit4j.libtorch=/no/such/dir is not a libtorch"), e.getMessage());
    }

    @Test
    void aSettingOfAnotherVersionFailsAtOnceSayingWhatToSet() throws IOException {
        Path old = fakeTorch("old", "2.5.1+cpu");
        var e = assertThrows(IllegalStateException.class,
                () -> locator(Map.of(), Map.of("LIBTORCH", old.toString()), fakePython(null), never()).locate("2.13.0+cpu"));
        assertEquals("environment variable LIBTORCH=" + old + " is libtorch 2.5.1+cpu, but dit4j's native library was built "
                + "for libtorch 2.13.0: set LIBTORCH (or -Ddit4j.libtorch) to a libtorch 2.13.0 (CPU or CUDA build; 'pip install "
                + "torch==2.13.0' gives one), or unset it to use python3's torch 2.13.0 or the CPU build that dit4j provisions into "
                + dir.resolve("cache"), e.getMessage());
    }

    @Test
    void thenPythonsTorch() throws IOException {
        Path py = fakeTorch("site-packages", "2.13.0+cu128");
        var found = locator(Map.of(), Map.of(), fakePython(py), never()).locate("2.13.0+cpu");
        assertEquals(py, found.root());
        assertTrue(found.rule().endsWith("python3-site-packages's torch"), found.rule());
    }

    @Test
    void pythonsTorchOfAnotherVersionIsSkippedForTheUserCache() throws IOException {
        Path py = fakeTorch("site-packages", "2.5.1");
        Path cached = fakeTorch("cache/libtorch-2.13.0+cpu", "2.13.0+cpu");
        var found = locator(Map.of(), Map.of(), fakePython(py), never()).locate("2.13.0+cpu");
        assertEquals(cached, found.root());
        assertTrue(found.rule().startsWith("user cache (LIBTORCH and -Ddit4j.libtorch are unset, "), found.rule());
        assertTrue(found.rule().contains("'s torch at " + py + " is 2.5.1, not 2.13.0"), found.rule());
    }

    @Test
    void lastlyTheUserCacheProvisionedOnce() throws IOException {
        Path provisioned = dir.resolve("cache/libtorch-2.13.0+cpu/torch");
        var found = locator(Map.of(), Map.of(), "/no/such/python3", v -> {
            assertEquals("2.13.0", v);
            try {
                return fakeTorch("cache/libtorch-2.13.0+cpu", "2.13.0+cpu");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }).locate("2.13.0+cpu");
        assertEquals(provisioned, found.root());
        assertTrue(found.rule().startsWith("user cache, provisioned now with pip (LIBTORCH and -Ddit4j.libtorch are unset, "
                + "no /no/such/python3 on the PATH)"), found.rule());
        // the next JVM finds it there without provisioning
        String python = fakePython(null);
        var again = locator(Map.of(), Map.of(), python, never()).locate("2.13.0+cpu");
        assertEquals(provisioned, again.root());
        assertEquals("user cache (LIBTORCH and -Ddit4j.libtorch are unset, " + python + " has no torch)", again.rule());
    }

    @Test
    void aFailedProvisioningSaysWhatToSetOrInstall() throws IOException {
        String python = fakePython(null);
        var e = assertThrows(IllegalStateException.class, () -> locator(Map.of(), Map.of(), python, v -> {
            throw new IllegalStateException("pip could not install torch==2.13.0+cpu");
        }).locate("2.13.0+cpu"));
        assertEquals("no libtorch 2.13.0 for dit4j: LIBTORCH and -Ddit4j.libtorch are unset, " + python + " has no torch, and "
                + "provisioning the CPU build torch==2.13.0+cpu into " + dir.resolve("cache") + " failed: pip could not install "
                + "torch==2.13.0+cpu. Set LIBTORCH to a libtorch 2.13.0 (a LibTorch zip root or a python torch package "
                + "directory, CPU or CUDA), or 'pip install torch==2.13.0' for python3", e.getMessage());
    }

    @Test
    void withoutAShimVersionNothingCanBeProvisioned() throws IOException {
        var e = assertThrows(IllegalStateException.class, () -> locator(Map.of(), Map.of(), fakePython(null), never()).locate(null));
        assertTrue(e.getMessage().contains("does not say which libtorch it needs, so none can be provisioned: set LIBTORCH"),
                e.getMessage());
    }

    @Test
    void aLibtorchZipSaysItsVersionInBuildVersion() throws IOException {
        Path zip = dir.resolve("libtorch");
        Files.createDirectories(zip.resolve("lib"));
        Files.createFile(zip.resolve("lib/libtorch.so"));
        Files.writeString(zip.resolve("build-version"), "2.13.0+cu128\n");
        assertEquals("2.13.0+cu128", LibtorchLocator.version(zip));
    }
}
