package dev.dit4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UserCacheTest {
    private static final Path HOME_CACHE = Path.of(System.getProperty("user.home"), ".cache", "dit4j");

    @Test
    void anAbsoluteXdgCacheHomeIsUsed() {
        assertEquals(Path.of("/var/cache/me/dit4j"), UserCache.dir(Map.of("XDG_CACHE_HOME", "/var/cache/me")::get));
    }

    @Test
    void aMissingBlankOrRelativeXdgCacheHomeFallsBackToTheHomeCache() {
        assertEquals(HOME_CACHE, UserCache.dir(Map.<String, String>of()::get));
        assertEquals(HOME_CACHE, UserCache.dir(Map.of("XDG_CACHE_HOME", " ")::get));
        assertEquals(HOME_CACHE, UserCache.dir(Map.of("XDG_CACHE_HOME", "relative/cache")::get), "the XDG specification ignores relative paths");
    }
}
