package dev.dit4j.models;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Module;
import java.util.ArrayList;
import java.util.List;

/** Every named preset of every architecture, for tools that take a model by name. */
public final class Presets {
    private Presets() {}

    /** The architecture a preset name belongs to. */
    public enum Family {
        DIT, UVIT, UDIT;

        /** DiT-XL/2 or XL_2; U-DiT-B or udit-b; imagenet256_uvit_huge or U-ViT names. */
        public static Family of(String name) {
            String n = name.toLowerCase(java.util.Locale.ROOT);
            if (n.startsWith("dit-") || n.matches("(s|b|l|xl)_[248]")) return DIT;
            if (n.startsWith("u-dit") || n.startsWith("udit")) return UDIT;
            if (n.contains("uvit") || n.startsWith("u-vit")) return UVIT;
            throw new IllegalArgumentException("unknown model '" + name + "'; known: " + names());
        }
    }

    public static List<String> names() {
        List<String> all = new ArrayList<>();
        DiT.PRESETS.forEach(c -> all.add(c.name()));
        UViT.PRESETS.forEach(c -> all.add(c.name()));
        UDiT.PRESETS.forEach(c -> all.add(c.name()));
        return all;
    }

    /**
     * The preset called {@code name} (DiT-XL/2, imagenet256_uvit_huge, U-DiT-B, ...) for inputs of
     * {@code channels} x {@code size} x {@code size}, with seeded initial weights. The result is a
     * {@link Module} implementing {@link ClassConditionalModel}.
     */
    public static Module create(String name, int channels, int size, Device device) {
        return switch (Family.of(name)) {
            case DIT -> DiT.create(DiT.preset(name).withInputSize(size).withInChannels(channels), device, 0);
            case UDIT -> UDiT.create(UDiT.preset(name).withInChannels(channels), device, 0);
            case UVIT -> UViT.create(UViT.preset(name).withImgSize(size).withInChannels(channels), device, 0);
        };
    }
}
