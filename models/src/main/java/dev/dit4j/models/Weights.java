package dev.dit4j.models;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loads released or trained weights into a model: a plain state dict, or a training checkpoint
 * whose EMA weights are preferred (as the reference's find_model does).
 */
public final class Weights {
    private Weights() {}

    public static void load(Module model, Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".safetensors")) {
            try (Safetensors.Contents c = Safetensors.read(file)) {
                model.loadStateDict(preferEma(c.tensors()));
            }
        } else {
            throw new CheckpointException("cannot read " + file + ": dit4j reads .safetensors weights (PyTorch .pt reading is not in yet)");
        }
    }

    /** The "ema." section when present, else "model.", else the dict itself. */
    static Map<String, Tensor> preferEma(Map<String, Tensor> all) {
        for (String prefix : new String[] {"ema.", "model."}) {
            Map<String, Tensor> section = new LinkedHashMap<>();
            all.forEach((k, v) -> {
                if (k.startsWith(prefix)) section.put(k.substring(prefix.length()), v);
            });
            if (!section.isEmpty()) return section;
        }
        return all;
    }
}
