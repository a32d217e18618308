package dev.dit4j.models.text;

import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.models.Weights;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.layers.Gelu;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.nio.file.Path;
import java.util.List;

/**
 * A CLIP image tower (ViT): images cut into patches by a strided convolution, a class token and
 * learned position embeddings, a LayerNorm, pre-LN blocks of bidirectional self-attention, then
 * the class token's state LayerNormed and projected into the joint image-text space. The same
 * network is stored two ways ({@link Layout}).
 *
 * @param imageSize     the side the tower takes (224), images are resized to
 * @param patchSize     patch side (14 for ViT-L/14 and ViT-H/14)
 * @param width         model width
 * @param heads         attention heads
 * @param mlpWidth      hidden width of each block's MLP (4 x width)
 * @param activation    QUICK for OpenAI's CLIP and QuickGELU OpenCLIP models, EXACT for the others
 * @param projectionDim width of the joint embedding (transformers' visual_projection, open_clip's proj); 0 when the file has none
 */
@RecordBuilder
public record ClipVisionConfig(String name, Layout layout, int imageSize, int patchSize, int width, int layers, int heads,
                               int mlpWidth, Gelu activation, double eps, int projectionDim)
        implements ModelConfig<ClipVisionEncoder>, ClipVisionConfigBuilder.With {
    /**
     * Parameter names: transformers' CLIPVisionModel ({@code embeddings.*, pre_layrnorm, encoder.layers.N.*,
     * post_layernorm}, with {@code visual_projection} beside it) or open_clip's visual tower
     * ({@code conv1, class_embedding, positional_embedding, ln_pre, transformer.resblocks.N.*, ln_post, proj}).
     */
    public enum Layout { TRANSFORMERS, OPEN_CLIP }

    public ClipVisionConfig {
        if (width <= 0 || heads <= 0 || width % heads != 0) throw new IllegalArgumentException("width " + width + " is not divisible by " + heads + " heads");
        if (layers < 0 || patchSize <= 0 || imageSize < patchSize || imageSize % patchSize != 0 || mlpWidth <= 0 || projectionDim < 0) {
            throw new IllegalArgumentException("invalid CLIP image tower config: image " + imageSize + ", patch " + patchSize + ", layers " + layers
                    + ", mlp " + mlpWidth + ", projection " + projectionDim);
        }
    }

    /** OpenAI's CLIP ViT-L/14 image tower as transformers' CLIPModel holds it (openai/clip-vit-large-patch14), torchmetrics' CLIPScore's model. */
    public static final ClipVisionConfig CLIP_VIT_L_14 = new ClipVisionConfig("clip-vit-l-14-vision", Layout.TRANSFORMERS, 224, 14, 1024, 24, 16,
            4096, Gelu.QUICK, 1e-5, 768);
    /** OpenCLIP ViT-H/14's image tower (laion2b; DFN5B's was trained with QuickGELU: {@code withActivation(Gelu.QUICK)}). */
    public static final ClipVisionConfig OPENCLIP_VIT_H_14 = new ClipVisionConfig("openclip-vit-h-14-vision", Layout.OPEN_CLIP, 224, 14, 1280, 32, 16,
            5120, Gelu.EXACT, 1e-5, 1024);
    public static final PresetRegistry<ClipVisionConfig> PRESETS = new PresetRegistry<>("CLIP image tower", List.of(CLIP_VIT_L_14, OPENCLIP_VIT_H_14));

    /** The width of each head. */
    public int headDim() {
        return width / heads;
    }

    /** Patches per image side. */
    public int grid() {
        return imageSize / patchSize;
    }

    /** Tokens per image: the class token and one per patch. */
    public int tokens() {
        return grid() * grid() + 1;
    }

    /** The width of the image embedding: the projection's, or the model width without one. */
    public int embeddingDim() {
        return projectionDim > 0 ? projectionDim : width;
    }

    @Override
    public ClipVisionEncoder build(VarBuilder vb) {
        return layout == Layout.TRANSFORMERS ? new ClipVisionModel(vb, this) : new OpenClipVisualTower(vb, this);
    }

    /**
     * Built from {@code file} (safetensors or .pt/.bin) in the layout its keys show, ignoring what is
     * not the image tower (the text tower, logit scale); use {@link ClipVisionWeights#configFor} for a
     * file whose sizes differ from this config's. Missing and mis-shaped keys are reported together.
     */
    @Override
    public ClipVisionEncoder load(Path file, DType dtype, Device device) {
        try (WeightSource source = ClipVisionWeights.visionSection(Weights.open(file), file)) {
            ClipVisionConfig cfg = withLayout(ClipVisionWeights.layoutOf(source, file));
            VarBuilder vb = VarBuilder.load(source, dtype, device);
            ClipVisionEncoder model = cfg.build(vb);
            try {
                vb.finish(ClipVisionWeights::notImageTower);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            return model;
        }
    }
}
