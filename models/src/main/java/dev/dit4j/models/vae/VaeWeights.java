package dev.dit4j.models.vae;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import dev.dit4j.nn.io.WeightSource;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.dit4j.nn.io.InputFiles;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Autoencoder weights as users have them, named the original (LDM) way whatever their layout:
 * diffusers' {@code vae/diffusion_pytorch_model.safetensors} or {@code .bin}, LDM's state dict
 * (U-ViT's {@code autoencoder_kl.pth}), or a whole Stable Diffusion checkpoint whose
 * {@code first_stage_model.} section is the autoencoder.
 */
final class VaeWeights {
    private VaeWeights() {}

    private static final String LDM_PROBE = "encoder.down.0.block.0.conv1.weight";
    private static final String DIFFUSERS_PROBE = "encoder.down_blocks.0.resnets.0.conv1.weight";

    /** The file's autoencoder tensors under LDM names; the layout is told by its keys. */
    static WeightSource open(Path file) {
        WeightSource raw = raw(file);
        try {
            WeightSource vae = raw;
            for (String prefix : new String[] {"first_stage_model.", "vae."}) {
                if (raw.keys().stream().anyMatch(k -> k.startsWith(prefix))) vae = raw.section(prefix);
            }
            if (vae.keys().contains(LDM_PROBE)) return vae;
            if (vae.keys().contains(DIFFUSERS_PROBE)) return DiffusersLayout.asLdm(vae);
            throw new CheckpointException(file + " holds no AutoencoderKL: expected '" + LDM_PROBE + "' (LDM layout, as U-ViT's "
                    + "autoencoder_kl.pth or a Stable Diffusion checkpoint's first_stage_model) or '" + DIFFUSERS_PROBE
                    + "' (diffusers' layout); its first keys are " + vae.keys().stream().limit(5).toList());
        } catch (RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static WeightSource raw(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".safetensors")) return Safetensors.index(file);
        if (!name.matches(".*\\.(pt|pth|bin|ckpt)$")) {
            throw new CheckpointException("cannot tell the format of " + file + ": expected .safetensors, .pt, .pth, .bin or .ckpt");
        }
        Object root = TorchCheckpoint.read(file);
        Map<String, Tensor> state = new LinkedHashMap<>();
        Object chosen = root instanceof Map<?, ?> m && m.get("state_dict") instanceof Map<?, ?> sd ? sd : root;
        if (!(chosen instanceof Map<?, ?> dict)) {
            TorchCheckpoint.closeTensors(root);
            throw new CheckpointException(file + " does not hold a dict of weights");
        }
        dict.forEach((k, v) -> {
            if (v instanceof Tensor t) state.put(String.valueOf(k), t);
        });
        TorchCheckpoint.closeTensorsExcept(root, state.values());
        return WeightSource.owning(state, "torch checkpoint " + file);
    }

    /**
     * Builds {@code config} from {@code source}, reporting every missing, unexpected and mis-shaped
     * key at once. A training checkpoint's {@code loss.} entries (LDM's discriminator and LPIPS) are
     * no part of the autoencoder and are passed over.
     */
    static AutoencoderKL build(AutoencoderKL.Config config, WeightSource source, DType dtype, Device device) {
        VarBuilder vb = VarBuilder.load(source, dtype, device);
        AutoencoderKL model = config.build(vb);
        try {
            vb.finish(k -> k.startsWith("loss."));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /**
     * The architecture the shapes describe: stem width from conv_in, levels and their widths from
     * each level's first block, residual blocks per level, latent channels from conv_out and
     * quant_conv, attention levels from the keys present.
     */
    static AutoencoderKL.Config infer(WeightSource source, Path file) {
        long[] stem = require(source, "encoder.conv_in.weight", file);
        int channels = (int) stem[0];
        List<Integer> mult = new ArrayList<>();
        List<Integer> attention = new ArrayList<>();
        for (int i = 0; source.keys().contains("encoder.down." + i + ".block.0.conv1.weight"); i++) {
            long width = source.shape("encoder.down." + i + ".block.0.conv1.weight")[0];
            if (width % channels != 0) {
                throw new CheckpointException(file + ": level " + i + "'s width " + width + " is not a multiple of the stem's " + channels);
            }
            mult.add((int) (width / channels));
            if (source.keys().contains("encoder.down." + i + ".attn.0.q.weight")) attention.add(i);
        }
        int blocks = 0;
        while (source.keys().contains("encoder.down.0.block." + blocks + ".conv1.weight")) blocks++;
        int z = (int) require(source, "encoder.conv_out.weight", file)[0] / 2;
        int embed = (int) require(source, "quant_conv.weight", file)[0] / 2;
        ConfigBeside beside = ConfigBeside.of(file);
        int groups = beside.normGroups();
        double scale = beside.scalingFactor();
        try {
            return new AutoencoderKL.Config("AutoencoderKL from " + file.getFileName(), (int) stem[1], channels, mult, blocks, z, embed,
                    attention, groups, scale);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file + " does not describe an AutoencoderKL: " + e.getMessage());
        }
    }

    private static long[] require(WeightSource source, String key, Path file) {
        long[] shape = source.shape(key);
        if (shape == null || shape.length != 4) throw new CheckpointException(file + " has no 4-d '" + key + "', so its architecture is unknown");
        return shape;
    }

    /**
     * What diffusers keeps in the config.json beside the weights and no weight's shape shows, read
     * once: the latent scale (else Stable Diffusion's) and GroupNorm's groups (else the released
     * autoencoders' 32). No file is the defaults; a file that exists must be a readable JSON object
     * whose fields, where present, have the right types: a damaged one is an error naming it and
     * the field, never silently the defaults.
     */
    private record ConfigBeside(Path json, JsonObject root) {
        static ConfigBeside of(Path file) {
            Path json = file.toAbsolutePath().resolveSibling("config.json");
            if (!InputFiles.exists(json)) return new ConfigBeside(json, new JsonObject());
            String text = InputFiles.readString(json, "autoencoder config", InputFiles.MAX_CONFIG_BYTES);
            JsonElement root;
            try {
                root = JsonParser.parseString(text);
            } catch (JsonParseException e) {
                throw new CheckpointException("autoencoder config " + json + " is not valid JSON (" + firstLine(e.getMessage())
                        + "): fix or remove it (without it the defaults apply: scaling_factor 0.18215, norm_num_groups 32)");
            }
            if (!root.isJsonObject()) {
                throw new CheckpointException("autoencoder config " + json + " is " + (text.isBlank() ? "empty" : "not a JSON object")
                        + ": fix or remove it (without it the defaults apply: scaling_factor 0.18215, norm_num_groups 32)");
            }
            return new ConfigBeside(json, root.getAsJsonObject());
        }

        double scalingFactor() {
            BigDecimal v = number("scaling_factor");
            if (v == null) return AutoencoderKL.SD.scalingFactor();
            double d = v.doubleValue();
            if (!(d > 0) || Double.isInfinite(d)) throw field("scaling_factor", "must be a positive finite number");
            return d;
        }

        int normGroups() {
            BigDecimal v = number("norm_num_groups");
            if (v == null) return AutoencoderKL.SD.normGroups();
            try {
                int groups = v.intValueExact();
                if (groups < 1) throw field("norm_num_groups", "must be a positive whole number");
                return groups;
            } catch (ArithmeticException e) {
                throw field("norm_num_groups", "must be a positive whole number that fits an int");
            }
        }

        /** The top-level field as a number, null when absent or JSON null; another type is an error naming it. */
        private BigDecimal number(String key) {
            JsonElement e = root.get(key);
            if (e == null || e.isJsonNull()) return null;
            if (!(e instanceof JsonPrimitive p) || !p.isNumber()) throw field(key, "must be a number");
            try {
                return new BigDecimal(p.getAsString());
            } catch (NumberFormatException ex) {
                throw field(key, "must be a number");
            }
        }

        private CheckpointException field(String key, String rule) {
            return new CheckpointException("autoencoder config " + json + ": \"" + key + "\" " + rule + ", got "
                    + InputFiles.quote(root.get(key).toString()));
        }

        private static String firstLine(String s) {
            return s == null ? "malformed" : s.lines().findFirst().orElse(s);
        }
    }
}
