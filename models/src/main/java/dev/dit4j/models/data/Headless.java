package dev.dit4j.models.data;

/** Puts AWT in headless mode before the first image or font is made, unless the user chose otherwise. */
final class Headless {
    private Headless() {}

    static void ensure() {
        // Training machines have no display; without this, AWT may try to reach an X server.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }
}
