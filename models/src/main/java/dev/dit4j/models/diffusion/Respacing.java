package dev.dit4j.models.diffusion;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** Which original timesteps a respaced process keeps (ADM's space_timesteps, same arithmetic). */
public final class Respacing {
    private Respacing() {}

    /**
     * Kept timesteps, ascending. {@code spec} is "250" (or comma-separated section counts,
     * "10,15,20") or "ddimN" (an evenly strided subset of exactly N steps).
     */
    public static List<Integer> timesteps(int numTimesteps, String spec) {
        if (spec.startsWith("ddim")) {
            int desired = Integer.parseInt(spec.substring(4));
            for (int stride = 1; stride < numTimesteps; stride++) {
                List<Integer> steps = new ArrayList<>();
                for (int i = 0; i < numTimesteps; i += stride) steps.add(i);
                if (steps.size() == desired) return steps;
            }
            throw new IllegalArgumentException("cannot create exactly " + desired + " steps with an integer stride");
        }
        String[] parts = spec.split(",");
        int sections = parts.length;
        int sizePer = numTimesteps / sections;
        int extra = numTimesteps % sections;
        int start = 0;
        TreeSet<Integer> all = new TreeSet<>();
        for (int i = 0; i < sections; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            int count = Integer.parseInt(parts[i].trim());
            if (size < count) throw new IllegalArgumentException("cannot divide section of " + size + " steps into " + count);
            double stride = count <= 1 ? 1 : (size - 1) / (double) (count - 1);
            double cur = 0;
            for (int k = 0; k < count; k++) {
                all.add(start + (int) Math.rint(cur)); // Python's round(): ties to even
                cur += stride; // accumulated, as the reference does, so the rounding matches exactly
            }
            start += size;
        }
        return new ArrayList<>(all);
    }
}
