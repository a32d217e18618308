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
 * official DiT-XL-2-256x256.pt, MicroDiT's dit_4_channel_37M_real_and_synthetic_data.pt), a
 * training checkpoint whose EMA weights are preferred (as the reference's find_model does), or a
 * composer Trainer checkpoint (MicroDiT's train.py), whose DiT is {@code state/model/dit.*}.
 * {@link ModelConfig#load} builds a model from them; {@link #load(Module, Path)} copies them into
 * a model that exists already.
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

    /**
     * A torch.save'd dict: a composer checkpoint's DiT ({@link #composerDiT}); else its "ema" state
     * dict when present (train.py checkpoints), else "model", else itself.
     */
    static Map<String, Tensor> stateDictOf(Object root, Path file) {
        if (!(root instanceof Map<?, ?> map)) throw new CheckpointException(file + " does not hold a dict of weights");
        if (map.get("state") instanceof Map<?, ?> state && state.get("model") instanceof Map<?, ?> model) return composerDiT(model, file);
        Object chosen = map.get("ema") instanceof Map<?, ?> ema ? ema : map.get("model") instanceof Map<?, ?> m ? m : map;
        return tensors(chosen, "", file);
    }

    /**
     * Composer's Trainer saves {"state": {"model": the ComposerModel's state dict, "optimizers", ...},
     * "rng": ...}. MicroDiT's model keeps the network as "dit" beside its frozen VAE and text
     * encoder, so the DiT is the "dit." entries, prefix removed. That is also the EMA when one
     * ran: composer's EMA swaps its weights into the model before each checkpoint (the training
     * weights then sit in the algorithm's state), and the authors' train.py applies none.
     */
    private static Map<String, Tensor> composerDiT(Map<?, ?> model, Path file) {
        Map<String, Tensor> dit = tensors(model, COMPOSER_DIT, file);
        if (dit.isEmpty()) {
            throw new CheckpointException("composer checkpoint " + file + " holds no DiT: none of the " + model.size()
                    + " keys of state/model starts with '" + COMPOSER_DIT + "'");
        }
        return dit;
    }

    private static final String COMPOSER_DIT = "dit.";

    /** The entries of a state dict whose keys start with {@code prefix}, prefix removed; each must be a tensor. */
    private static Map<String, Tensor> tensors(Object stateDict, String prefix, Path file) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (var e : ((Map<?, ?>) stateDict).entrySet()) {
            String key = String.valueOf(e.getKey());
            if (!key.startsWith(prefix)) continue;
            if (!(e.getValue() instanceof Tensor t)) {
                throw new CheckpointException(file + ": entry '" + key + "' is not a tensor, so this is not a state dict");
            }
            state.put(key.substring(prefix.length()), t);
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
