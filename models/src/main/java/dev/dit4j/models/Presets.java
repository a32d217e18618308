package dev.dit4j.models;

import dev.dit4j.nn.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
// TODO(merge): replaced by ModelFamily; removed once train-latents moves to recipes

/** Every named preset of every architecture, for tools that take a model by name. */
public final class Presets {
    private Presets() {}

    /** The architecture a preset name belongs to. */
    public enum Family {
        DIT(DiT.PRESETS), UVIT(UViT.PRESETS), UDIT(UDiT.PRESETS), MICRODIT(MicroDiT.PRESETS);

        private final PresetRegistry<?> registry;

        Family(PresetRegistry<?> registry) {
            this.registry = registry;
        }

        /** DiT-XL/2 or XL_2; U-DiT-B or udit-b; imagenet256_uvit_huge or IMAGENET256_H_2. */
        public static Family of(String name) {
            for (Family f : values()) if (f.registry.find(name).isPresent()) return f;
            throw new IllegalArgumentException("unknown model '" + name + "'; known: " + names());
        }
    }

    public static List<String> names() {
        List<String> all = new ArrayList<>();
        for (Family f : Family.values()) f.registry.all().forEach(c -> all.add(c.name()));
        return all;
    }

    /**
     * The preset called {@code name} (DiT-XL/2, imagenet256_uvit_huge, U-DiT-B, ...) for inputs of
     * {@code channels} x {@code size} x {@code size}.
     */
    public static DiffusionConfig<? extends DiffusionModel<?>> config(String name, int channels, int size) {
        return switch (Family.of(name)) {
            case DIT -> DiT.PRESETS.get(name).withInputSize(size).withInChannels(channels);
            case UDIT -> UDiT.PRESETS.get(name).withInChannels(channels);
            case UVIT -> UViT.PRESETS.get(name).withImgSize(size).withInChannels(channels);
            // pos_embed is a buffer of the state dict: a loaded 512 px model brings its interpolated table
            case MICRODIT -> MicroDiT.PRESETS.get(name).withInputSize(size).withInChannels(channels);
        };
    }

    /** {@link #config}'s model with seeded initial weights. */
    public static DiffusionModel<?> create(String name, int channels, int size, Device device) {
        return config(name, channels, size).create(device, 0);
    }
}
