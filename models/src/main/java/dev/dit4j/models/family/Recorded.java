package dev.dit4j.models.family;

import dev.dit4j.nn.io.WeightSource;
import java.util.Map;

/** The configuration a dit4j checkpoint records in its 'config' metadata. */
final class Recorded {
    private Recorded() {}

    /** The recorded configuration when it is one of {@code type}'s ("Config[...]" of the record), else null. */
    static <R extends Record> R parse(Class<R> type, Map<String, String> metadata, WeightSource w) {
        String text = metadata.get("config");
        if (text == null || !text.startsWith("Config[")) return null;
        try {
            return ConfigText.parse(type, text, w.describe());
        } catch (IllegalArgumentException e) {
            return null; // another family's configuration, or none: the shapes decide
        }
    }
}
