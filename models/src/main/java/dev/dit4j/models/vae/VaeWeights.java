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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
        try {
            ConfigBeside beside = ConfigBeside.of(file);
            return new AutoencoderKL.Config("AutoencoderKL from " + file.getFileName(), (int) stem[1], channels, mult, blocks, z, embed,
                    attention, beside.normGroups(), beside.scalingFactor());
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
     * autoencoders' 32).
     */
    private record ConfigBeside(Path json, String text) {
        static ConfigBeside of(Path file) {
            Path json = file.toAbsolutePath().resolveSibling("config.json");
            try {
                return new ConfigBeside(json, Files.isRegularFile(json) ? Files.readString(json) : "");
            } catch (IOException e) {
                throw new CheckpointException("cannot read " + json + ": " + e.getMessage());
            }
        }

        double scalingFactor() {
            return number("scaling_factor").orElse(AutoencoderKL.SD.scalingFactor());
        }

        int normGroups() {
            double groups = number("norm_num_groups").orElse(AutoencoderKL.SD.normGroups());
            if (groups != Math.rint(groups)) throw new CheckpointException(json + ": norm_num_groups " + groups + " is not a whole number");
            return (int) groups;
        }

        private OptionalDouble number(String key) {
            Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*([-+0-9.eE]+)").matcher(text);
            try {
                return m.find() ? OptionalDouble.of(Double.parseDouble(m.group(1))) : OptionalDouble.empty();
            } catch (NumberFormatException e) {
                throw new CheckpointException("cannot read " + key + " from " + json + ": " + e.getMessage());
            }
        }
    }
}
