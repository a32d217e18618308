package dev.dit4j.models.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.dit4j.models.Weights;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.layers.Gelu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a CLIP text-encoder file holds: its layout (by its keys), its text section (a full CLIPModel
 * keeps it under {@code text_model.}, an OpenCLIP CustomTextCLIP under {@code text.}), and the
 * configuration of a reduced model (sizes from the tensors' shapes; heads, activation and end
 * token from a {@code config.json} or {@code open_clip_config.json} beside the file when there is one).
 */
public final class ClipTextWeights {
    private ClipTextWeights() {}

    private static final Pattern BLOCK = Pattern.compile("^(?:encoder\\.layers|transformer\\.resblocks)\\.(\\d+)\\.");

    /** The text encoder's keys of {@code all}: its {@code text_model.} or {@code text.} section when it has one, else all of it. */
    static WeightSource textSection(WeightSource all) {
        for (String prefix : new String[] {"text_model.", "text."}) {
            if (all.keys().contains(prefix + "embeddings.token_embedding.weight") || all.keys().contains(prefix + "token_embedding.weight")) {
                return all.section(prefix);
            }
        }
        return all;
    }

    /** Keys of a full CLIP file that are not the text encoder: the vision tower, projections other than OpenCLIP's text_projection, logit scale and bias, position-id buffers. */
    static boolean notTextEncoder(String key) {
        return key.startsWith("vision_model.") || key.startsWith("visual.") || key.startsWith("visual_projection.")
                || key.startsWith("text_projection.") || key.equals("logit_scale") || key.equals("logit_bias")
                || key.equals("embeddings.position_ids") || key.equals("attn_mask");
    }

    static ClipTextConfig.Layout layoutOf(WeightSource source, Path file) {
        if (source.keys().contains("embeddings.token_embedding.weight")) return ClipTextConfig.Layout.TRANSFORMERS;
        if (source.keys().contains("token_embedding.weight")) return ClipTextConfig.Layout.OPEN_CLIP;
        throw new IllegalArgumentException(file + " is not a CLIP text encoder: it has neither transformers' "
                + "[text_model.]embeddings.token_embedding.weight nor open_clip's token_embedding.weight (keys: " + sample(source) + ")");
    }

    /**
     * {@code preset} with the layout and sizes of the weights in {@code file}. A file of the preset's
     * width keeps its heads and activation; a reduced one takes them from a config file beside it
     * (or heads from the safetensors metadata "num_attention_heads" or "heads"), else 64-wide heads
     * as every released CLIP text encoder has.
     */
    public static ClipTextConfig configFor(ClipTextConfig preset, Path file) {
        try (WeightSource source = textSection(Weights.open(file))) {
            ClipTextConfig.Layout layout = layoutOf(source, file);
            boolean hf = layout == ClipTextConfig.Layout.TRANSFORMERS;
            long[] tokens = source.shape(hf ? "embeddings.token_embedding.weight" : "token_embedding.weight");
            long[] positions = source.shape(hf ? "embeddings.position_embedding.weight" : "positional_embedding");
            long[] fc = source.shape(hf ? "encoder.layers.0.mlp.fc1.weight" : "transformer.resblocks.0.mlp.c_fc.weight");
            long[] projection = hf ? null : source.shape("text_projection");
            if (tokens == null || tokens.length != 2 || positions == null || positions.length != 2 || positions[1] != tokens[1]) {
                throw new IllegalArgumentException(file + ": token table " + Arrays.toString(tokens) + " and position table "
                        + Arrays.toString(positions) + " are not [vocab, width] and [context, width]");
            }
            int width = (int) tokens[1];
            int layers = 0;
            for (String k : source.keys()) {
                Matcher m = BLOCK.matcher(k);
                if (m.find()) layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
            }
            int mlpWidth = fc != null && fc.length == 2 ? (int) fc[0] : 4 * width;
            int projectionDim = projection != null && projection.length == 2 && projection[0] == width ? (int) projection[1] : 0;
            int heads = width == preset.width() ? preset.heads() : Math.max(1, width / 64);
            int vocab = (int) tokens[0], context = (int) positions[0], depth = layers;
            ClipTextConfig cfg = preset.with(b -> b.layout(layout).vocabSize(vocab).contextLength(context).width(width).layers(depth)
                    .mlpWidth(mlpWidth).projectionDim(projectionDim).heads(heads));
            String declared = source.metadata().getOrDefault("num_attention_heads", source.metadata().get("heads"));
            try {
                if (declared != null && declared.matches("[1-9][0-9]{0,3}")) cfg = cfg.withHeads(Integer.parseInt(declared));
                return withConfigFile(cfg, file);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
    }

    /** Heads, activation and end token from transformers' config.json or open_clip's open_clip_config.json beside {@code file}. */
    private static ClipTextConfig withConfigFile(ClipTextConfig cfg, Path file) {
        Path dir = file.toAbsolutePath().getParent();
        Path hfFile = dir.resolve("config.json");
        JsonObject hf = json(hfFile);
        if (hf != null) {
            JsonObject text = hf.get("text_config") instanceof JsonObject t ? t : hf;
            if (present(text, "num_attention_heads")) cfg = cfg.withHeads(whole(text, "num_attention_heads", hfFile));
            if (present(text, "hidden_act")) cfg = cfg.withActivation(activation(string(text, "hidden_act", hfFile), hfFile));
            if (present(text, "eos_token_id")) cfg = cfg.withEosTokenId(whole(text, "eos_token_id", hfFile));
            if (present(text, "layer_norm_eps")) cfg = cfg.withEps(number(text, "layer_norm_eps", hfFile).doubleValue());
        }
        Path ocFile = dir.resolve("open_clip_config.json");
        JsonObject oc = json(ocFile);
        if (oc != null && oc.get("model_cfg") instanceof JsonObject model) {
            if (model.get("text_cfg") instanceof JsonObject text && present(text, "heads")) cfg = cfg.withHeads(whole(text, "heads", ocFile));
            if (present(model, "quick_gelu")) {
                if (!(model.get("quick_gelu") instanceof com.google.gson.JsonPrimitive p) || !p.isBoolean()) throw field(ocFile, "quick_gelu", "true or false", model);
                cfg = cfg.withActivation(p.getAsBoolean() ? Gelu.QUICK : Gelu.EXACT);
            }
        }
        return cfg;
    }

    private static boolean present(JsonObject o, String key) {
        return o.get(key) != null && !o.get(key).isJsonNull();
    }

    /** A field that must be a JSON number; another type is an error naming the file, the field and the value. */
    private static java.math.BigDecimal number(JsonObject o, String key, Path file) {
        if (o.get(key) instanceof com.google.gson.JsonPrimitive p && p.isNumber()) {
            try {
                return new java.math.BigDecimal(p.getAsString());
            } catch (NumberFormatException e) {
                // below
            }
        }
        throw field(file, key, "a number", o);
    }

    private static int whole(JsonObject o, String key, Path file) {
        try {
            return number(o, key, file).intValueExact();
        } catch (ArithmeticException e) {
            throw field(file, key, "a whole number that fits an int", o);
        }
    }

    private static String string(JsonObject o, String key, Path file) {
        if (o.get(key) instanceof com.google.gson.JsonPrimitive p && p.isString()) return p.getAsString();
        throw field(file, key, "a string", o);
    }

    private static IllegalArgumentException field(Path file, String key, String rule, JsonObject o) {
        return new IllegalArgumentException("text encoder config " + file + ": \"" + key + "\" must be " + rule + ", got "
                + dev.dit4j.nn.io.InputFiles.quote(String.valueOf(o.get(key))));
    }

    private static Gelu activation(String name, Path file) {
        return switch (name) {
            case "quick_gelu" -> Gelu.QUICK;
            case "gelu" -> Gelu.EXACT;
            case "gelu_new", "gelu_pytorch_tanh" -> Gelu.TANH;
            default -> throw new IllegalArgumentException(file + ": hidden_act '" + name + "' is not a GELU this CLIP text encoder has");
        };
    }

    /** The JSON object in {@code file}, null when there is no such file; a file that exists but is no readable JSON object is an error naming it. */
    private static JsonObject json(Path file) {
        if (!dev.dit4j.nn.io.InputFiles.exists(file)) return null;
        String text = dev.dit4j.nn.io.InputFiles.readString(file, "text encoder config", dev.dit4j.nn.io.InputFiles.MAX_CONFIG_BYTES);
        try {
            JsonElement e = JsonParser.parseString(text);
            if (!e.isJsonObject()) throw new IllegalArgumentException("text encoder config " + file + " is " + (text.isBlank() ? "empty" : "not a JSON object"));
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("text encoder config " + file + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static String sample(WeightSource source) {
        var keys = source.keys().stream().limit(4).toList();
        return keys + (source.keys().size() > 4 ? " and " + (source.keys().size() - 4) + " more" : "");
    }
}
