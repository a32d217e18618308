package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.dit4j.models.data.PillowResize;
import dev.dit4j.models.eval.ClipScore;
import dev.dit4j.models.text.ClipImages;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipVisionConfig;
import dev.dit4j.models.text.ClipVisionEncoder;
import dev.dit4j.models.text.ClipVisionModel;
import dev.dit4j.models.text.ClipVisionWeights;
import dev.dit4j.models.text.VocabularyFixture;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.layers.Gelu;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLIP image towers against transformers' CLIPModel (vision_model + visual_projection,
 * quick-GELU) and open_clip's CLIP (visual, exact GELU) on identical seeded weights (width 64,
 * 2 layers, 2 heads, 32 px in 8 px patches, embeddings of 32), loaded from the whole model's file
 * beside its text tower; CLIPImageProcessorPil's preprocessing; and the text embeddings, cosines
 * and CLIP score of make_clip_vision_fixtures.py.
 */
class ClipVisionParityTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    @Test
    void transformersLayoutMatchesCLIPModel() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("clip_vision_transformers.safetensors"); TensorScope s = TensorScope.open()) {
            Path file = save(ref, "model.safetensors");
            Files.writeString(dir.resolve("config.json"), "{\"text_config\": {\"num_attention_heads\": 2, \"hidden_act\": \"quick_gelu\", \"eos_token_id\": 49407},"
                    + " \"vision_config\": {\"num_attention_heads\": 2, \"hidden_act\": \"quick_gelu\"}}");
            ClipVisionConfig cfg = ClipVisionWeights.configFor(file);
            assertEquals(ClipVisionConfig.Layout.TRANSFORMERS, cfg.layout());
            assertEquals(List.of(32, 8, 64, 2, 2, 256, 32), List.of(cfg.imageSize(), cfg.patchSize(), cfg.width(), cfg.layers(), cfg.heads(),
                    cfg.mlpWidth(), cfg.projectionDim()));
            assertEquals(Gelu.QUICK, cfg.activation());
            try (ClipVisionEncoder tower = cfg.load(file, Device.CPU)) {
                tower.eval();
                Tensor pixels = ref.tensors().get("pixel_values");
                Tensor hidden = tower.hidden(pixels);
                double h = Fixtures.relativeL2(hidden, ref.tensors().get("last_hidden_state"));
                double p = Fixtures.relativeL2(((ClipVisionModel) tower).pooled(hidden), ref.tensors().get("pooled"));
                double e = Fixtures.relativeL2(tower.forward(pixels), ref.tensors().get("image_embeds"));
                System.out.printf("transformers image tower: last hidden state rel L2 %.2e, pooled %.2e, image embeds %.2e%n", h, p, e);
                assertTrue(h < TOLERANCE && p < TOLERANCE && e < TOLERANCE, h + " " + p + " " + e);
            }
            checkScore("transformers", file, ref);
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void openClipLayoutMatchesTheVisualTower() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("clip_vision_openclip.safetensors"); TensorScope s = TensorScope.open()) {
            Path file = save(ref, "open_clip_model.safetensors");
            Files.writeString(dir.resolve("open_clip_config.json"), "{\"model_cfg\": {\"vision_cfg\": {\"head_width\": 32}, \"text_cfg\": {\"heads\": 2}}}");
            ClipVisionConfig cfg = ClipVisionWeights.configFor(file);
            assertEquals(ClipVisionConfig.Layout.OPEN_CLIP, cfg.layout());
            assertEquals(List.of(32, 8, 64, 2, 2, 256, 32), List.of(cfg.imageSize(), cfg.patchSize(), cfg.width(), cfg.layers(), cfg.heads(),
                    cfg.mlpWidth(), cfg.projectionDim()));
            assertEquals(Gelu.EXACT, cfg.activation());
            try (ClipVisionEncoder tower = cfg.load(file, Device.CPU)) {
                tower.eval();
                Tensor pixels = ref.tensors().get("pixel_values");
                double h = Fixtures.relativeL2(tower.hidden(pixels), ref.tensors().get("tokens"));
                double e = Fixtures.relativeL2(tower.forward(pixels), ref.tensors().get("image_embeds"));
                System.out.printf("open_clip image tower: transformer output rel L2 %.2e, image embeds %.2e%n", h, e);
                assertTrue(h < TOLERANCE && e < TOLERANCE, h + " " + e);
            }
            checkScore("open_clip", file, ref);
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void preprocessingMatchesCLIPImageProcessor() {
        try (Safetensors.Contents ref = Fixtures.load("clip_vision_transformers.safetensors"); TensorScope s = TensorScope.open()) {
            for (String name : List.of("wide", "square")) {
                Tensor raw = ref.tensors().get("raw_" + name);
                Tensor got = ClipImages.preprocess(raw.unsqueeze(0), 32).squeeze(0);
                double maxDiff = got.sub(ref.tensors().get("processed_" + name)).abs().max().item();
                System.out.printf("CLIP preprocessing of the %s image: max |diff| %.2e%n", name, maxDiff);
                assertTrue(maxDiff < 1e-5, name + ": " + maxDiff);
            }
            byte[] tall = new byte[50 * 30 * 3];
            PillowResize.Pixels p = PillowResize.shortSideCenterCrop(new PillowResize.Pixels(30, 50, 3, tall), 20);
            assertEquals(List.of(20, 20), List.of(p.width(), p.height()));
        }
    }

    @Test
    void aFileThatIsNotAnImageTowerOrOfOtherShapesIsNamed() throws Exception {
        try (Safetensors.Contents ref = Fixtures.load("clip_vision_openclip.safetensors"); TensorScope s = TensorScope.open()) {
            Path file = save(ref, "w.safetensors");
            StateDictMismatch e = assertThrows(StateDictMismatch.class, () -> ClipVisionConfig.OPENCLIP_VIT_H_14.load(file, Device.CPU));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("conv1.weight"), e.getMessage());
            Path notClip = dir.resolve("dit.safetensors");
            Safetensors.save(notClip, Map.of("x_embedder.proj.weight", Tensor.zeros(2, 2)));
            IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> ClipVisionWeights.configFor(notClip));
            assertTrue(n.getMessage().contains("not a CLIP image tower"), n.getMessage());
            try (ClipVisionEncoder t = ClipVisionWeights.configFor(file).load(file, Device.CPU)) {
                IllegalArgumentException px = assertThrows(IllegalArgumentException.class, () -> t.forward(Tensor.zeros(1, 3, 16, 16)));
                assertTrue(px.getMessage().contains("[N, 3, 32, 32]"), px.getMessage());
            }
        }
    }

    @Test
    void presetsHaveTheReleasedShapes() {
        ClipVisionConfig l = ClipVisionConfig.CLIP_VIT_L_14, hh = ClipVisionConfig.OPENCLIP_VIT_H_14;
        assertEquals(List.of(224, 14, 1024, 24, 16, 4096, 768, 257), List.of(l.imageSize(), l.patchSize(), l.width(), l.layers(), l.heads(), l.mlpWidth(),
                l.projectionDim(), l.tokens()));
        assertEquals(List.of(224, 14, 1280, 32, 16, 5120, 1024), List.of(hh.imageSize(), hh.patchSize(), hh.width(), hh.layers(), hh.heads(), hh.mlpWidth(),
                hh.projectionDim()));
        try (ClipVisionEncoder one = l.withLayers(1).create(Device.CPU, 0)) {
            long w = 1024;
            assertEquals(w + w * 3 * 14 * 14 + 257 * w + 2 * 2 * w + (4 * w * w + 4 * w) + 4 * w + (2 * w * 4096 + 4096 + w) + 768 * w, one.parameterCount());
        }
        assertSame(hh, ClipVisionConfig.PRESETS.get("openclip-vit-h-14-vision"));
    }

    /** The fixture's text embeddings, cosines and score through {@link ClipScore}, from the same file as the image tower. */
    private static void checkScore(String kind, Path file, Safetensors.Contents ref) {
        List<String> prompts = new ArrayList<>();
        JsonArray a = JsonParser.parseString(ref.metadata().get("prompts")).getAsJsonArray();
        a.forEach(p -> prompts.add(p.getAsString()));
        try (ClipScore score = ClipScore.load(file, null, VocabularyFixture.path(), Device.CPU)) {
            assertEquals(kind.equals("open_clip") ? ClipTextConfig.Layout.OPEN_CLIP : ClipTextConfig.Layout.TRANSFORMERS, score.text().config().layout());
            Tensor text = score.textFeatures(prompts);
            double t = Fixtures.relativeL2(text, ref.tensors().get("text_embeds"));
            Tensor image = score.vision().forward(ref.tensors().get("pixel_values"));
            double[] cos = ClipScore.cosines(image, text);
            double[] expected = ref.tensors().get("cos").toDoubleArray();
            double clip = ClipScore.score(cos), expectedScore = ref.tensors().get("clip_score").item();
            System.out.printf("%s CLIP score: text embeds rel L2 %.2e, score %.6f (reference %.6f), cos %s%n", kind, t, clip, expectedScore,
                    java.util.Arrays.toString(cos));
            assertTrue(t < TOLERANCE, "text embeds: " + t);
            for (int i = 0; i < cos.length; i++) assertEquals(expected[i], cos[i], 1e-4, "cos " + i);
            assertEquals(expectedScore, clip, 1e-3);
        }
    }

    /** The fixture's seeded weights saved under their own names. */
    private Path save(Safetensors.Contents ref, String name) {
        Map<String, String> meta = ref.metadata();
        JsonObject shapesJson = JsonParser.parseString(meta.get("shapes")).getAsJsonObject();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapesJson.entrySet().forEach(e -> {
            var arr = e.getValue().getAsJsonArray();
            long[] shape = new long[arr.size()];
            for (int i = 0; i < shape.length; i++) shape[i] = arr.get(i).getAsLong();
            shapes.put(e.getKey(), shape);
        });
        Map<String, Tensor> weights = Fixtures.seededWeights(List.of(meta.get("keys").split(",")), shapes,
                Long.parseLong(meta.get("weight_seed")), Double.parseDouble(meta.get("weight_std")), ref.tensors().get("weight_sums"));
        Path file = dir.resolve(name);
        Safetensors.save(file, weights);
        weights.values().forEach(Tensor::close);
        return file;
    }
}
