package dev.dit4j.models;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The named presets of one architecture, found by any spelling of their name: case, punctuation,
 * a ".pth" suffix and the family prefix do not matter ("DiT-XL/2", "xl_2" and "dit-xl-2" are one
 * preset). {@link #normalize} is the one normaliser every lookup uses.
 */
public final class PresetRegistry<C extends ModelConfig<?>> {
    private final String family;
    private final List<C> presets;
    private final Map<String, C> byKey = new LinkedHashMap<>();

    /** {@code aliases}: further names (the authors' constant names, say) for some presets. */
    public PresetRegistry(String family, List<C> presets, Map<String, C> aliases) {
        this.family = family;
        this.presets = List.copyOf(presets);
        presets.forEach(c -> add(c.name(), c));
        aliases.forEach(this::add);
    }

    public PresetRegistry(String family, List<C> presets) {
        this(family, presets, Map.of());
    }

    private void add(String name, C config) {
        C seen = byKey.putIfAbsent(key(name), config);
        if (seen != null && seen != config) throw new IllegalArgumentException("two " + family + " presets are both called '" + name + "'");
    }

    /** Lower case, letters and digits only, without a checkpoint suffix: "DiT-XL/2" -> "ditxl2". */
    public static String normalize(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replaceFirst("\\.(pth|pt|safetensors)$", "");
        return n.replaceAll("[^a-z0-9]", "");
    }

    /** The normalised name without the family prefix: "DiT-XL/2" -> "xl2". */
    private String key(String name) {
        String n = normalize(name);
        String prefix = normalize(family);
        return n.startsWith(prefix) && n.length() > prefix.length() ? n.substring(prefix.length()) : n;
    }

    public List<C> all() {
        return presets;
    }

    public Optional<C> find(String name) {
        return Optional.ofNullable(byKey.get(key(name)));
    }

    public C get(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException("unknown " + family + " preset '" + name
                + "'; known: " + presets.stream().map(ModelConfig::name).toList()));
    }
}
