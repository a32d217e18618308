package dev.dit4j.models.family;

import dev.dit4j.models.DiffusionConfig;
import java.util.Map;

/**
 * What a weights file holds, before any tensor is read: the family, the configuration it was
 * trained with, the preset it derives from, and its metadata.
 *
 * @param family   the architecture
 * @param config   the configuration that loads the file
 * @param preset   the name of the preset of the same width (null when none matches)
 * @param recorded true when dit4j recorded the configuration in the file, false when it was read from shapes
 * @param metadata the file's metadata (empty for .pt files)
 */
public record CheckpointInfo(ModelFamily family, DiffusionConfig<?> config, String preset, boolean recorded, Map<String, String> metadata) {
    /** Metadata of a dit4j checkpoint: the EDM sigma_data a model was trained with (MicroDiT; the authors' 0.9 when absent). */
    public static final String EDM_SIGMA_DATA = "edm_sigma_data";
    /** Metadata of a dit4j checkpoint: U-ViT's time, "continuous" or "discrete". */
    public static final String UVIT_TIME = "uvit_time";

    public CheckpointInfo {
        metadata = Map.copyOf(metadata);
    }

    /**
     * The family's recipe for this file: what it recorded, or its authors' for a released file; a
     * file trained with a transport objective ({@link dev.dit4j.models.flow.Transport#PATH_KEY})
     * samples with that transport's samplers.
     */
    public Recipe recipe() {
        Recipe r = family.recipe(this);
        dev.dit4j.models.flow.Transport t = dev.dit4j.models.flow.Transport.fromMetadata(metadata);
        return t == null ? r : r.withTransport(t, config);
    }

    /** The same file with metadata entry {@code key} set to {@code value} (a user's override of what the file records). */
    public CheckpointInfo withMetadata(String key, String value) {
        Map<String, String> m = new java.util.LinkedHashMap<>(metadata);
        m.put(key, value);
        return new CheckpointInfo(family, config, preset, recorded, m);
    }
}
