package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTextWeights;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.text.VocabularyFixture;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.layers.Gelu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two CLIP text encoders against transformers' CLIPTextModel (quick-GELU, first-end-token
 * pooling) and open_clip's text tower (GELU, argmax pooling, text_projection) on identical seeded
 * weights: width 64, 2 layers, 2 heads, ids of real captions (one empty, one over-long).
 */
class ClipTextParityTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    @Test
    void transformersLayoutMatchesCLIPTextModel() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("clip_text_transformers.safetensors"); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> weights = seeded(ref);
            // a full CLIPModel file: everything under text_model., beside a vision tower and projections to ignore
            Map<String, Tensor> full = new LinkedHashMap<>();
            weights.forEach((k, v) -> full.put("text_model." + k, v));
            full.put("vision_model.embeddings.class_embedding", Tensor.zeros(8));
            full.put("visual_projection.weight", Tensor.zeros(4, 8));
            full.put("text_projection.weight", Tensor.zeros(4, 64));
            full.put("logit_scale", Tensor.zeros(1));
            Path file = dir.resolve("model.safetensors");
            Safetensors.save(file, full);
            weights.values().forEach(Tensor::close);
            Files.writeString(dir.resolve("config.json"), "{\"text_config\": {\"num_attention_heads\": " + ref.metadata().get("heads")
                    + ", \"hidden_act\": \"quick_gelu\", \"eos_token_id\": 49407}}");
            ClipTextConfig cfg = ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, file);
            assertEquals(ClipTextConfig.Layout.TRANSFORMERS, cfg.layout());
            assertEquals(List.of(64, 2, 2, 256, 49407), List.of(cfg.width(), cfg.layers(), cfg.heads(), cfg.mlpWidth(), cfg.eosTokenId()));
            check("transformers", cfg, file, ref);

            // a config.json that exists but is broken, or has a field of the wrong type: an error naming the file and field, no silent default
            Path json = dir.resolve("config.json");
            String good = Files.readString(json);
            Files.writeString(json, "{\"text_config\": {\"num_attention_heads\": \"2\"}}");
            var e = assertThrows(IllegalArgumentException.class, () -> ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, file));
            assertTrue(e.getMessage().contains(json.toString()) && e.getMessage().contains("\"num_attention_heads\" must be a number"), e.getMessage());
            Files.writeString(json, "{\"text_config\": {\"eos_token_id\": 1e400}}");
            e = assertThrows(IllegalArgumentException.class, () -> ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, file));
            assertTrue(e.getMessage().contains("\"eos_token_id\" must be a whole number") && e.getMessage().contains("1e400"), e.getMessage());
            Files.writeString(json, "");
            e = assertThrows(IllegalArgumentException.class, () -> ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, file));
            assertTrue(e.getMessage().contains(json + " is empty"), e.getMessage());
            Files.writeString(json, good);

            // no config file: heads from the safetensors metadata, else 64 wide
            Path bare = Files.createDirectories(dir.resolve("bare")).resolve("w.safetensors");
            Safetensors.save(bare, Map.of("embeddings.token_embedding.weight", Tensor.zeros(10, 64), "embeddings.position_embedding.weight",
                    Tensor.zeros(77, 64)), Map.of("num_attention_heads", "4"));
            assertEquals(4, ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, bare).heads());
            Safetensors.save(bare, Map.of("embeddings.token_embedding.weight", Tensor.zeros(10, 128), "embeddings.position_embedding.weight",
                    Tensor.zeros(77, 128)));
            assertEquals(2, ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, bare).heads());
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void openClipLayoutMatchesTheTextTower() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("clip_text_openclip.safetensors"); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> weights = seeded(ref);
            weights.put("visual.conv1.weight", Tensor.zeros(2, 3, 4, 4));
            weights.put("logit_scale", Tensor.zeros(1));
            Path file = dir.resolve("open_clip_model.safetensors");
            Safetensors.save(file, weights);
            weights.values().forEach(Tensor::close);
            Files.writeString(dir.resolve("open_clip_config.json"), "{\"model_cfg\": {\"text_cfg\": {\"heads\": " + ref.metadata().get("heads") + "}}}");
            ClipTextConfig cfg = ClipTextWeights.configFor(ClipTextConfig.OPENCLIP_VIT_H_14, file);
            assertEquals(ClipTextConfig.Layout.OPEN_CLIP, cfg.layout());
            assertEquals(Gelu.EXACT, cfg.activation());
            assertEquals(List.of(64, 2, 2, 256, 32), List.of(cfg.width(), cfg.layers(), cfg.heads(), cfg.mlpWidth(), cfg.projectionDim()));
            check("openclip", cfg, file, ref);
            try (ClipTextEncoder model = cfg.load(file, Device.CPU)) {
                ClipTokenizer tokenizer = ClipTokenizer.open(VocabularyFixture.path());
                Tensor encoded = model.encode(tokenizer, List.of("a photograph of an astronaut riding a horse", ""));
                assertTrue(encoded.allclose(model.forward(tokenizer.tokenize(List.of("a photograph of an astronaut riding a horse", ""))), 0, 0));
                assertTrue(Fixtures.relativeL2(encoded.narrow(0, 0, 1), ref.tensors().get("out").narrow(0, 0, 1)) < TOLERANCE, "the fixture's first caption");
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void aCheckpointOfTheWrongShapeOrWidthIsNamed() throws Exception {
        try (Safetensors.Contents ref = Fixtures.load("clip_text_transformers.safetensors"); TensorScope s = TensorScope.open()) {
            Path file = dir.resolve("w.safetensors");
            Map<String, Tensor> weights = seeded(ref);
            Safetensors.save(file, weights);
            weights.values().forEach(Tensor::close);
            // the preset's own shapes against a width-64 file: every mis-shaped key and the file named together
            StateDictMismatch e = assertThrows(StateDictMismatch.class, () -> ClipTextConfig.CLIP_VIT_L_14.load(file, Device.CPU));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("embeddings.token_embedding.weight"), e.getMessage());
            ClipTextConfig cfg = ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, file);
            IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> cfg.requireWidth(768, "U-ViT mscoco_uvit_small"));
            assertTrue(w.getMessage().contains("64") && w.getMessage().contains("768") && w.getMessage().contains("mscoco_uvit_small"), w.getMessage());
            Path notClip = dir.resolve("dit.safetensors");
            Safetensors.save(notClip, Map.of("x_embedder.proj.weight", Tensor.zeros(2, 2)));
            IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, notClip));
            assertTrue(n.getMessage().contains("not a CLIP text encoder"), n.getMessage());
        }
    }

    @Test
    void loadsInBfloat16() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("clip_text_openclip.safetensors"); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> weights = seeded(ref);
            Path file = dir.resolve("w.safetensors");
            Safetensors.save(file, weights);
            weights.values().forEach(Tensor::close);
            Files.writeString(dir.resolve("open_clip_config.json"), "{\"model_cfg\": {\"text_cfg\": {\"heads\": 2}}}");
            ClipTextConfig cfg = ClipTextWeights.configFor(ClipTextConfig.OPENCLIP_VIT_H_14, file);
            try (ClipTextEncoder model = cfg.load(file, DType.BFLOAT16, Device.CPU)) {
                Tensor out = model.forward(ref.tensors().get("input_ids"));
                assertEquals(DType.BFLOAT16, out.dtype());
                double err = Fixtures.relativeL2(out, ref.tensors().get("out"));
                assertTrue(err < 2e-2, "bf16 last hidden state: rel L2 " + err);
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void presetsHaveTheReleasedShapes() {
        try (ClipTextEncoder l = ClipTextConfig.CLIP_VIT_L_14.withLayers(1).create(Device.CPU, 0)) {
            assertEquals(49408L * 768 + 77L * 768 + 2 * 768 + (4L * 768 * 768 + 4 * 768) + 4 * 768 + (2L * 768 * 3072 + 3072 + 768), l.parameterCount());
        }
        assertEquals(List.of(1024, 24, 16, 4096), List.of(ClipTextConfig.OPENCLIP_VIT_H_14.width(), ClipTextConfig.OPENCLIP_VIT_H_14.layers(),
                ClipTextConfig.OPENCLIP_VIT_H_14.heads(), ClipTextConfig.OPENCLIP_VIT_H_14.mlpWidth()));
        assertSame(ClipTextConfig.OPENCLIP_VIT_H_14, ClipTextConfig.PRESETS.get("openclip-vit-h-14-text"));
    }

    private static void check(String kind, ClipTextConfig cfg, Path file, Safetensors.Contents ref) {
        Tensor ids = ref.tensors().get("input_ids");
        try (ClipTextEncoder model = cfg.load(file, Device.CPU)) {
            model.eval();
            Tensor hidden = model.forward(ids);
            double err = Fixtures.relativeL2(hidden, ref.tensors().get("out"));
            double pooledErr = Fixtures.relativeL2(model.pooled(ids, hidden), ref.tensors().get("pooled"));
            System.out.printf("%s text encoder: last hidden state rel L2 %.2e, pooled %.2e%n", kind, err, pooledErr);
            assertTrue(err < TOLERANCE, "last hidden state: rel L2 " + err);
            assertTrue(pooledErr < TOLERANCE, "pooled: rel L2 " + pooledErr);
        }
    }

    /** The fixture's weights, drawn as the script drew them (checked against its sums). */
    private static Map<String, Tensor> seeded(Safetensors.Contents ref) {
        Map<String, String> meta = ref.metadata();
        JsonObject shapesJson = JsonParser.parseString(meta.get("shapes")).getAsJsonObject();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapesJson.entrySet().forEach(e -> {
            var a = e.getValue().getAsJsonArray();
            long[] shape = new long[a.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = a.get(i).getAsLong();
            shapes.put(e.getKey(), shape);
        });
        Map<String, Tensor> weights = Fixtures.seededWeights(List.of(meta.get("keys").split(",")), shapes,
                Long.parseLong(meta.get("weight_seed")), Double.parseDouble(meta.get("weight_std")), ref.tensors().get("weight_sums"));
        return weights;
    }
}
