package dev.dit4j.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** A state dict that does not fit a module: every missing, unexpected and mis-shaped key at once. */
public final class StateDictMismatch extends IllegalArgumentException {
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> misshaped;

    private StateDictMismatch(List<String> missing, List<String> unexpected, List<String> misshaped, String what) {
        super(describe(missing, unexpected, misshaped, what));
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.misshaped = List.copyOf(misshaped);
    }

    public List<String> missing() {
        return missing;
    }

    public List<String> unexpected() {
        return unexpected;
    }

    /** Entries like {@code "blocks.0.attn.qkv.weight: checkpoint [1152, 384], model [1536, 384]"}. */
    public List<String> misshaped() {
        return misshaped;
    }

    /** Throws if the dicts do not fit; shape mismatches fail even when not strict (as PyTorch). */
    static void check(Map<String, Tensor> own, Map<String, Tensor> incoming, boolean strict) {
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        for (String k : own.keySet()) if (!incoming.containsKey(k)) missing.add(k);
        for (var e : incoming.entrySet()) {
            Tensor target = own.get(e.getKey());
            if (target == null) {
                unexpected.add(e.getKey());
            } else if (!Arrays.equals(target.shape(), e.getValue().shape())) {
                misshaped.add(e.getKey() + ": checkpoint " + Arrays.toString(e.getValue().shape()) + ", model "
                        + Arrays.toString(target.shape()));
            }
        }
        if (!misshaped.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            throw new StateDictMismatch(missing, unexpected, misshaped, "state dict");
        }
    }

    /** The same mismatches, described as those of {@code source} (a file, a checkpoint section). */
    public StateDictMismatch in(String source) {
        return new StateDictMismatch(missing, unexpected, misshaped, source);
    }

    /** The mismatches found while building a model from {@code what} (a file, a state dict). */
    static StateDictMismatch of(List<String> missing, List<String> unexpected, List<String> misshaped, String what) {
        return new StateDictMismatch(missing, unexpected, misshaped, what);
    }

    private static String describe(List<String> missing, List<String> unexpected, List<String> misshaped, String what) {
        StringBuilder sb = new StringBuilder(what + " does not match the model:");
        if (!missing.isEmpty()) sb.append("\n  missing keys (").append(missing.size()).append("): ").append(abbreviate(missing));
        if (!unexpected.isEmpty()) sb.append("\n  unexpected keys (").append(unexpected.size()).append("): ").append(abbreviate(unexpected));
        if (!misshaped.isEmpty()) sb.append("\n  shape mismatches (").append(misshaped.size()).append("): ").append(abbreviate(misshaped));
        return sb.toString();
    }

    private static String abbreviate(List<String> keys) {
        return keys.size() <= 12 ? String.join(", ", keys) : String.join(", ", keys.subList(0, 12)) + ", ...";
    }
}
