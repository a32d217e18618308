package dev.dit4j.models.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.dit4j.models.Weights;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.layers.Gelu;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a CLIP file holds of its image tower: the layout (by its keys), the tower's keys (a
 * transformers CLIPModel or CLIPVisionModelWithProjection keeps it under {@code vision_model.}
 * with {@code visual_projection} beside it, an OpenCLIP model under {@code visual.}; a file of the
 * tower alone has them at the top), and the configuration of a file (sizes from the tensors'
 * shapes; heads, activation and eps from a {@code config.json} or {@code open_clip_config.json}
 * beside it, else from the safetensors metadata or the preset of the layout).
 */
public final class ClipVisionWeights {
    private ClipVisionWeights() {}

    private static final Pattern BLOCK = Pattern.compile("^(?:encoder\\.layers|transformer\\.resblocks)\\.(\\d+)\\.");

    /**
     * The image tower's keys of {@code all}, named as {@link ClipVisionModel} and
     * {@link OpenClipVisualTower} register them: {@code vision_model.X} as X and
     * {@code visual_projection.weight} kept, or {@code visual.X} as X; a file of the tower alone as it is.
     */
    public static WeightSource visionSection(WeightSource all, Path file) {
        Map<String, String> inner = new LinkedHashMap<>();
        if (all.keys().contains("vision_model.embeddings.class_embedding")) {
            for (String k : all.keys()) {
                if (k.startsWith("vision_model.")) inner.put(k.substring("vision_model.".length()), k);
                else if (k.startsWith("visual_projection.")) inner.put(k, k);
            }
        } else if (all.keys().contains("visual.class_embedding")) {
            for (String k : all.keys()) if (k.startsWith("visual.")) inner.put(k.substring("visual.".length()), k);
        } else {
            return all;
        }
        return new WeightSource() {
            public Set<String> keys() { return inner.keySet(); }
            public long[] shape(String key) { return inner.containsKey(key) ? all.shape(inner.get(key)) : null; }
            public Tensor take(String key, DType dtype, Device device) { return all.take(inner.get(key), dtype, device); }
            public Map<String, String> metadata() { return all.metadata(); }
            public String describe() { return all.describe() + " (image tower)"; }
            public void close() { all.close(); }
        };
    }

    /** Keys beside the image tower's that loading ignores: position-id buffers, logit scale and bias. */
    static boolean notImageTower(String key) {
        return key.equals("embeddings.position_ids") || key.equals("logit_scale") || key.equals("logit_bias");
    }

    static ClipVisionConfig.Layout layoutOf(WeightSource source, Path file) {
        if (source.keys().contains("embeddings.class_embedding")) return ClipVisionConfig.Layout.TRANSFORMERS;
        if (source.keys().contains("class_embedding") && source.keys().contains("conv1.weight")) return ClipVisionConfig.Layout.OPEN_CLIP;
        throw new IllegalArgumentException(file + " is not a CLIP image tower: it has neither transformers' [vision_model.]embeddings.class_embedding "
                + "nor open_clip's [visual.]class_embedding and conv1.weight (keys: " + sample(source) + ")");
    }

    /** The configuration of the tower in {@code file}, from the preset of its layout ({@link ClipVisionConfig#CLIP_VIT_L_14} or {@link ClipVisionConfig#OPENCLIP_VIT_H_14}). */
    public static ClipVisionConfig configFor(Path file) {
        try (WeightSource source = visionSection(Weights.open(file), file)) {
            ClipVisionConfig preset = layoutOf(source, file) == ClipVisionConfig.Layout.TRANSFORMERS ? ClipVisionConfig.CLIP_VIT_L_14
                    : ClipVisionConfig.OPENCLIP_VIT_H_14;
            return configFor(preset, source, file);
        }
    }

    /**
     * {@code preset} with the layout and sizes of the tower in {@code file}. A tower of the preset's
     * width keeps its heads and activation; a reduced one takes them from a config file beside it
     * (or heads from the safetensors metadata "vision_heads"), else 64-wide heads.
     */
    public static ClipVisionConfig configFor(ClipVisionConfig preset, Path file) {
        try (WeightSource source = visionSection(Weights.open(file), file)) {
            return configFor(preset, source, file);
        }
    }

    private static ClipVisionConfig configFor(ClipVisionConfig preset, WeightSource source, Path file) {
        ClipVisionConfig.Layout layout = layoutOf(source, file);
        boolean hf = layout == ClipVisionConfig.Layout.TRANSFORMERS;
        long[] cls = source.shape(hf ? "embeddings.class_embedding" : "class_embedding");
        long[] conv = source.shape(hf ? "embeddings.patch_embedding.weight" : "conv1.weight");
        long[] positions = source.shape(hf ? "embeddings.position_embedding.weight" : "positional_embedding");
        long[] fc = source.shape(hf ? "encoder.layers.0.mlp.fc1.weight" : "transformer.resblocks.0.mlp.c_fc.weight");
        long[] projection = source.shape(hf ? "visual_projection.weight" : "proj");
        if (cls == null || cls.length != 1 || conv == null || conv.length != 4 || conv[0] != cls[0] || conv[2] != conv[3]
                || positions == null || positions.length != 2 || positions[1] != cls[0]) {
            throw new IllegalArgumentException(file + ": class embedding " + Arrays.toString(cls) + ", patch convolution " + Arrays.toString(conv)
                    + " and position table " + Arrays.toString(positions) + " are not [width], [width, 3, p, p] and [tokens, width]");
        }
        int width = (int) cls[0], patch = (int) conv[2];
        int grid = (int) Math.round(Math.sqrt(positions[0] - 1));
        if ((long) grid * grid + 1 != positions[0]) {
            throw new IllegalArgumentException(file + ": " + positions[0] + " positions are not a square grid of patches and a class token");
        }
        int layers = 0;
        for (String k : source.keys()) {
            Matcher m = BLOCK.matcher(k);
            if (m.find()) layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
        }
        int mlpWidth = fc != null && fc.length == 2 ? (int) fc[0] : 4 * width;
        int projectionDim = projection == null || projection.length != 2 ? 0 : (int) (hf ? projection[0] : projection[1]);
        int heads = width == preset.width() ? preset.heads() : Math.max(1, width / 64);
        int depth = layers, image = grid * patch;
        ClipVisionConfig cfg = preset.with(b -> b.layout(layout).imageSize(image).patchSize(patch).width(width).layers(depth)
                .mlpWidth(mlpWidth).projectionDim(projectionDim).heads(heads));
        String declared = source.metadata().get("vision_heads");
        try {
            if (declared != null && declared.matches("[1-9][0-9]{0,3}")) cfg = cfg.withHeads(Integer.parseInt(declared));
            return withConfigFile(cfg, file);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Heads, activation and eps from transformers' config.json (its vision_config) or open_clip's open_clip_config.json beside {@code file}. */
    private static ClipVisionConfig withConfigFile(ClipVisionConfig cfg, Path file) {
        Path dir = file.toAbsolutePath().getParent();
        JsonObject hf = json(dir.resolve("config.json"));
        if (hf != null) {
            JsonObject vision = hf.get("vision_config") instanceof JsonObject v ? v : hf.has("patch_size") ? hf : null;
            if (vision != null) {
                if (vision.has("num_attention_heads")) cfg = cfg.withHeads(vision.get("num_attention_heads").getAsInt());
                if (vision.has("hidden_act")) cfg = cfg.withActivation(activation(vision.get("hidden_act").getAsString(), dir.resolve("config.json")));
                if (vision.has("layer_norm_eps")) cfg = cfg.withEps(vision.get("layer_norm_eps").getAsDouble());
            }
        }
        JsonObject oc = json(dir.resolve("open_clip_config.json"));
        if (oc != null && oc.get("model_cfg") instanceof JsonObject model) {
            if (model.get("vision_cfg") instanceof JsonObject vision) {
                int headWidth = vision.has("head_width") ? vision.get("head_width").getAsInt() : 64;
                if (headWidth > 0 && cfg.width() % headWidth == 0) cfg = cfg.withHeads(cfg.width() / headWidth);
            }
            if (model.has("quick_gelu")) cfg = cfg.withActivation(model.get("quick_gelu").getAsBoolean() ? Gelu.QUICK : Gelu.EXACT);
        }
        return cfg;
    }

    private static Gelu activation(String name, Path file) {
        return switch (name) {
            case "quick_gelu" -> Gelu.QUICK;
            case "gelu" -> Gelu.EXACT;
            case "gelu_new", "gelu_pytorch_tanh" -> Gelu.TANH;
            default -> throw new IllegalArgumentException(file + ": hidden_act '" + name + "' is not a GELU this CLIP image tower has");
        };
    }

    private static JsonObject json(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file));
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (IOException | JsonParseException e) {
            throw new IllegalArgumentException("cannot read " + file + " beside the weights: " + e.getMessage(), e);
        }
    }

    private static String sample(WeightSource source) {
        var keys = source.keys().stream().limit(4).toList();
        return keys + (source.keys().size() > 4 ? " and " + (source.keys().size() - 4) + " more" : "");
    }
}
