package dev.dit4j.models;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Released or trained weights, from safetensors or PyTorch .pt files: a plain state dict (the
 * official DiT-XL-2-256x256.pt), or a training checkpoint whose EMA weights are preferred (as the
 * reference's find_model does). {@link ModelConfig#load} builds a model from them;
 * {@link #load(Module, Path)} copies them into a model that exists already.
 */
public final class Weights {
    private Weights() {}

    /** The weights in {@code file} as a source to build a model from: its "ema" section when present, else "model", else all. */
    public static WeightSource open(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".safetensors")) {
            WeightSource all = Safetensors.index(file);
            for (String prefix : new String[] {"ema.", "model."}) {
                if (all.keys().stream().anyMatch(k -> k.startsWith(prefix))) return all.section(prefix);
            }
            return all;
        }
        if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".bin")) {
            Object root = TorchCheckpoint.read(file);
            Map<String, Tensor> state;
            try {
                state = stateDictOf(root, file);
            } catch (RuntimeException e) {
                TorchCheckpoint.closeTensors(root);
                throw e;
            }
            TorchCheckpoint.closeTensorsExcept(root, state.values());
            return WeightSource.owning(state, "torch checkpoint " + file);
        }
        throw new CheckpointException("cannot tell the format of " + file + ": expected .safetensors or .pt");
    }

    /** Copies the weights of {@code file} into {@code model} (strict: every key must match by name and shape). */
    public static void load(Module model, Path file) {
        load(model, file, Set.of());
    }

    /**
     * As {@link #load(Module, Path)}, except that the keys in {@code computed} (a buffer computed
     * from the configuration, such as a position table at another resolution) keep the model's own
     * values: they are neither read nor required.
     */
    public static void load(Module model, Path file, Set<String> computed) {
        Map<String, Tensor> own = model.stateDict();
        Map<String, Tensor> state = new LinkedHashMap<>();
        try (WeightSource source = open(file)) {
            for (String k : computed) if (own.containsKey(k)) state.put(k, TensorScope.release(own.get(k).detach()));
            for (String k : source.keys()) {
                if (computed.contains(k)) continue;
                Tensor target = own.get(k);
                // an unexpected key only has to be named, so it is not read
                state.put(k, target == null ? TensorScope.release(Tensor.zeros(0)) : source.take(k, target.dtype(), target.device()));
            }
            model.loadStateDict(state);
        } catch (StateDictMismatch e) {
            throw e.in("weights file " + file);
        } finally {
            state.values().forEach(Tensor::close);
        }
    }

    /** A torch.save'd dict: its "ema" state dict when present (train.py checkpoints), else "model", else itself. */
    static Map<String, Tensor> stateDictOf(Object root, Path file) {
        if (!(root instanceof Map<?, ?> map)) throw new CheckpointException(file + " does not hold a dict of weights");
        Object chosen = map.get("ema") instanceof Map<?, ?> ema ? ema : map.get("model") instanceof Map<?, ?> m ? m : map;
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (var e : ((Map<?, ?>) chosen).entrySet()) {
            if (!(e.getValue() instanceof Tensor t)) {
                throw new CheckpointException(file + ": entry '" + e.getKey() + "' is not a tensor, so this is not a state dict");
            }
            state.put(String.valueOf(e.getKey()), t);
        }
        return state;
    }

    /** The entries whose keys start with {@code prefix}, with the prefix removed (checkpoint sections). */
    public static Map<String, Tensor> section(Map<String, Tensor> all, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
        });
        return out;
    }
}
