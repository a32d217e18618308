package dev.dit4j.models.family;

import dev.dit4j.nn.io.WeightSource;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Facts read off a state dict's tensor shapes and key names, for the families' probes. */
final class Shapes {
    private Shapes() {}

    /** Size {@code dim} of tensor {@code key}, or {@code fallback} when the key is absent or has fewer dimensions. */
    static int size(WeightSource w, String key, int dim, int fallback) {
        long[] s = w.shape(key);
        return s != null && s.length > dim ? Math.toIntExact(s[dim]) : fallback;
    }

    /** 1 + the largest index i of the keys "{prefix}.i.…" (0 when there are none). */
    static int count(WeightSource w, String prefix) {
        Pattern p = Pattern.compile(Pattern.quote(prefix) + "\\.(\\d+)\\.");
        int n = 0;
        for (String k : w.keys()) {
            Matcher m = p.matcher(k);
            if (m.lookingAt()) n = Math.max(n, Integer.parseInt(m.group(1)) + 1);
        }
        return n;
    }

    /** The side of a square grid of {@code tokens - extras} patches of {@code patch}, or -1 when not square. */
    static int side(WeightSource w, String positions, int extras, int patch) {
        long[] s = w.shape(positions);
        if (s == null || s.length != 3) return -1;
        long t = s[1] - extras;
        long g = Math.round(Math.sqrt(t));
        return t > 0 && g * g == t ? Math.toIntExact(g * patch) : -1;
    }
}
