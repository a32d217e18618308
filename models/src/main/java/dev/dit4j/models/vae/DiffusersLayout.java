package dev.dit4j.models.vae;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.io.WeightSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * diffusers' AutoencoderKL names seen as LDM's: {@code down_blocks.i.resnets.j} is
 * {@code down.i.block.j}, the decoder's {@code up_blocks} run deepest first (so
 * {@code up_blocks.k} is {@code up.(levels-1-k)}), resnets' {@code conv_shortcut} is
 * {@code nin_shortcut}, the mid block's resnets 0 and 1 are {@code block_1} and {@code block_2},
 * and attention's group_norm and to_q/to_k/to_v/to_out.0 (or the older query/key/value/proj_attn)
 * linears are norm and the 1x1 convs q/k/v/proj_out, their [C, C] weights read as [C, C, 1, 1].
 * Keys that fit none of these keep their names, so they are reported as unexpected.
 */
final class DiffusersLayout {
    private DiffusersLayout() {}

    private static final Pattern BLOCK = Pattern.compile("(encoder|decoder)\\.(down|up)_blocks\\.(\\d+)\\.(resnets|attentions|downsamplers|upsamplers)\\.(\\d+)\\.(.+)");
    private static final Pattern MID = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final Map<String, String> ATTENTION = Map.of("group_norm", "norm", "to_q", "q", "to_k", "k", "to_v", "v",
            "to_out.0", "proj_out", "query", "q", "key", "k", "value", "v", "proj_attn", "proj_out");

    static WeightSource asLdm(WeightSource diffusers) {
        int levels = 0;
        for (String k : diffusers.keys()) {
            Matcher m = BLOCK.matcher(k);
            if (m.matches() && m.group(1).equals("decoder")) levels = Math.max(levels, Integer.parseInt(m.group(3)) + 1);
        }
        Map<String, String> byLdmName = new LinkedHashMap<>();
        for (String k : diffusers.keys()) byLdmName.put(ldmName(k, levels), k);
        return new WeightSource() {
            public Set<String> keys() { return byLdmName.keySet(); }

            public long[] shape(String key) {
                String stored = byLdmName.get(key);
                if (stored == null) return null;
                long[] shape = diffusers.shape(stored);
                return isAttentionLinear(key, shape) ? new long[] {shape[0], shape[1], 1, 1} : shape;
            }

            public Tensor take(String key, DType dtype, Device device) {
                long[] shape = shape(key);
                try (Tensor t = diffusers.take(byLdmName.get(key), dtype, device)) {
                    return t.reshape(shape);
                }
            }

            public Map<String, String> metadata() { return diffusers.metadata(); }
            public String describe() { return diffusers.describe() + " (diffusers layout)"; }
            public void close() { diffusers.close(); }
        };
    }

    private static boolean isAttentionLinear(String ldmKey, long[] shape) {
        return shape.length == 2 && ldmKey.matches(".*\\.(attn_1|attn\\.\\d+)\\.(q|k|v|proj_out)\\.weight");
    }

    static String ldmName(String key, int levels) {
        Matcher m = BLOCK.matcher(key);
        if (m.matches()) {
            String side = m.group(1);
            int level = Integer.parseInt(m.group(3));
            if (side.equals("decoder")) level = levels - 1 - level;
            String base = side + "." + (side.equals("encoder") ? "down." : "up.") + level + ".";
            String rest = m.group(6);
            return switch (m.group(4)) {
                case "resnets" -> base + "block." + m.group(5) + "." + resnet(rest);
                case "attentions" -> base + "attn." + m.group(5) + "." + attention(rest);
                case "downsamplers" -> base + "downsample." + rest;
                default -> base + "upsample." + rest;
            };
        }
        m = MID.matcher(key);
        if (m.matches()) {
            String base = m.group(1) + ".mid.";
            return m.group(2).equals("resnets")
                    ? base + "block_" + (Integer.parseInt(m.group(3)) + 1) + "." + resnet(m.group(4))
                    : base + "attn_" + (Integer.parseInt(m.group(3)) + 1) + "." + attention(m.group(4));
        }
        return key.replace(".conv_norm_out.", ".norm_out.");
    }

    private static String resnet(String rest) {
        return rest.startsWith("conv_shortcut.") ? "nin_shortcut." + rest.substring("conv_shortcut.".length()) : rest;
    }

    private static String attention(String rest) {
        int dot = rest.lastIndexOf('.');
        String module = rest.substring(0, dot);
        return ATTENTION.getOrDefault(module, module) + rest.substring(dot);
    }
}
