package dev.dit4j.nn.io;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Named tensors a model can be built from directly (see {@code VarBuilder.load}): a safetensors
 * file read tensor by tensor ({@link Safetensors#index}), or a state dict already in memory (a
 * torch.save file). Each tensor is taken at most once and handed over, so a model built from a
 * source holds no second copy of it.
 */
public interface WeightSource extends AutoCloseable {
    /** Every key, in the source's order. */
    Set<String> keys();

    /** The stored shape of {@code key}, or null when the source has no such key. */
    long[] shape(String key);

    /** The tensor under {@code key} as {@code dtype} on {@code device}, contiguous; the caller owns it. */
    Tensor take(String key, DType dtype, Device device);

    /** The file's own metadata (a safetensors header's {@code __metadata__}); empty where there is none. */
    default Map<String, String> metadata() {
        return Map.of();
    }

    /** What this source is, for messages ("safetensors file w.safetensors"). */
    String describe();

    /** Frees what was not taken. */
    @Override
    void close();

    /** The keys under {@code prefix}, with the prefix removed (a checkpoint's "ema." section). */
    default WeightSource section(String prefix) {
        WeightSource all = this;
        Map<String, String> inner = new LinkedHashMap<>();
        for (String k : all.keys()) if (k.startsWith(prefix)) inner.put(k.substring(prefix.length()), k);
        return new WeightSource() {
            public Set<String> keys() { return inner.keySet(); }
            public long[] shape(String key) { return inner.containsKey(key) ? all.shape(inner.get(key)) : null; }
            public Tensor take(String key, DType dtype, Device device) { return all.take(inner.get(key), dtype, device); }
            public Map<String, String> metadata() { return all.metadata(); }
            public String describe() { return all.describe() + " (section '" + prefix + "')"; }
            public void close() { all.close(); }
        };
    }

    /**
     * A source over a state dict whose tensors it now owns: a taken tensor that already has the
     * dtype and device asked for is handed over as it is, the rest are freed at {@link #close}.
     */
    static WeightSource owning(Map<String, Tensor> tensors, String description) {
        Map<String, Tensor> left = new LinkedHashMap<>(tensors);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        tensors.forEach((k, v) -> shapes.put(k, v.shape()));
        return new WeightSource() {
            public Set<String> keys() { return java.util.Collections.unmodifiableSet(shapes.keySet()); }
            public long[] shape(String key) { return shapes.containsKey(key) ? shapes.get(key).clone() : null; }

            public Tensor take(String key, DType dtype, Device device) {
                Tensor t = left.remove(key);
                if (t == null) throw new IllegalStateException("'" + key + "' was already taken from " + description);
                try (Tensor moved = t.to(device, dtype)) {
                    return moved.contiguous(); // the same storage when nothing had to change
                } finally {
                    t.close();
                }
            }

            public String describe() { return description; }
            public void close() {
                left.values().forEach(Tensor::close);
                left.clear();
            }
        };
    }
}
