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
 * A CLIP text transformer: pre-LN blocks with causal self-attention over token plus learned
 * position embeddings, then a final LayerNorm. The same network is stored two ways ({@link Layout}).
 *
 * @param vocabSize     rows of the token table (49408)
 * @param contextLength rows of the position table (77)
 * @param width         model width, also the width of the hidden states a diffusion model consumes
 * @param heads         attention heads (CLIP's are 64 wide)
 * @param mlpWidth      hidden width of each block's MLP (4 x width)
 * @param activation    QUICK for OpenAI's CLIP and QuickGELU OpenCLIP models, EXACT for the others
 * @param projectionDim columns of OpenCLIP's text_projection; 0 when the file has none
 * @param eosTokenId    transformers' pooling: 2 (its legacy value) pools at the largest id, as OpenCLIP; else at the first of this id
 */
@RecordBuilder
public record ClipTextConfig(String name, Layout layout, int vocabSize, int contextLength, int width, int layers, int heads,
                             int mlpWidth, Gelu activation, double eps, int projectionDim, int eosTokenId)
        implements ModelConfig<ClipTextEncoder>, ClipTextConfigBuilder.With {
    /** Parameter names: transformers' CLIPTextModel ({@code embeddings.*, encoder.layers.N.*, final_layer_norm}) or open_clip's ({@code token_embedding, transformer.resblocks.N.*, ln_final}). */
    public enum Layout { TRANSFORMERS, OPEN_CLIP }

    public ClipTextConfig {
        if (width <= 0 || heads <= 0 || width % heads != 0) throw new IllegalArgumentException("width " + width + " is not divisible by " + heads + " heads");
        if (layers < 0 || vocabSize <= 0 || contextLength <= 0 || mlpWidth <= 0) {
            throw new IllegalArgumentException("invalid CLIP text config: vocab " + vocabSize + ", context " + contextLength + ", layers " + layers + ", mlp " + mlpWidth);
        }
    }

    /** OpenAI's CLIP ViT-L/14 text encoder as transformers' CLIPTextModel (U-ViT's FrozenCLIPEmbedder, openai/clip-vit-large-patch14). */
    public static final ClipTextConfig CLIP_VIT_L_14 = new ClipTextConfig("clip-vit-l-14-text", Layout.TRANSFORMERS, 49408, 77, 768, 12, 12,
            3072, Gelu.QUICK, 1e-5, 0, 2);
    /** OpenCLIP ViT-H/14's text tower (laion2b; MicroDiT's DFN5B weights were trained with QuickGELU: {@code withActivation(Gelu.QUICK)}). */
    public static final ClipTextConfig OPENCLIP_VIT_H_14 = new ClipTextConfig("openclip-vit-h-14-text", Layout.OPEN_CLIP, 49408, 77, 1024, 24, 16,
            4096, Gelu.EXACT, 1e-5, 1024, 2);
    public static final PresetRegistry<ClipTextConfig> PRESETS = new PresetRegistry<>("CLIP text", List.of(CLIP_VIT_L_14, OPENCLIP_VIT_H_14));


    /** The width of each head. */
    public int headDim() {
        return width / heads;
    }

    @Override
    public ClipTextEncoder build(VarBuilder vb) {
        return layout == Layout.TRANSFORMERS ? new ClipTextModel(vb, this) : new OpenClipTextTower(vb, this);
    }

    /**
     * Built from {@code file} (safetensors or .pt/.bin) in the layout its keys show, ignoring what is
     * not the text encoder (a full CLIPModel's vision tower and projections, logit_scale). Missing
     * and mis-shaped keys are reported together, naming the file.
     */
    @Override
    public ClipTextEncoder load(Path file, DType dtype, Device device) {
        try (WeightSource source = ClipTextWeights.textSection(Weights.open(file))) {
            ClipTextConfig cfg = withLayout(ClipTextWeights.layoutOf(source, file));
            VarBuilder vb = VarBuilder.load(source, dtype, device);
            ClipTextEncoder model = cfg.build(vb);
            try {
                vb.finish(ClipTextWeights::notTextEncoder);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            return model;
        }
    }

    /** Throws unless this encoder's hidden states are {@code contextDim} wide, as the diffusion model {@code model} takes them. */
    public void requireWidth(int contextDim, String model) {
        if (width != contextDim) {
            throw new IllegalArgumentException("text encoder " + name + " gives " + width + "-wide hidden states, but " + model
                    + " takes " + contextDim + "-wide text tokens: use a text encoder of width " + contextDim);
        }
    }
}
