package dev.dit4j.models.text;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.SdpaBackend;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import java.util.Arrays;
import java.util.List;

/**
 * A CLIP image tower: normalised pixels [N, 3, S, S] (S the config's image size; see
 * {@link ClipImages} for CLIP's preprocessing) to the image embedding [N, embeddingDim] in the
 * joint image-text space (transformers' get_image_features, open_clip's encode_image before
 * normalisation). {@link ClipVisionModel} and {@link OpenClipVisualTower} are its two key layouts.
 */
public abstract class ClipVisionEncoder extends Module {
    private final ClipVisionConfig config;

    protected ClipVisionEncoder(VarBuilder vb, ClipVisionConfig config) {
        super(vb);
        this.config = config;
    }

    public ClipVisionConfig config() {
        return config;
    }

    /** The image embeddings [N, embeddingDim] of pixels [N, 3, S, S]. */
    public Tensor forward(Tensor pixels) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(embed(hidden(pixels)));
        }
    }

    /** The transformer's output [N, tokens, width], class token first, before the final LayerNorm (transformers' last_hidden_state). */
    public abstract Tensor hidden(Tensor pixels);

    /** The class token of {@code hidden}, LayerNormed and projected: [N, embeddingDim]. */
    public abstract Tensor embed(Tensor hidden);

    /** Patches, class token and positions: [N, tokens, width] before the first LayerNorm. */
    protected Tensor tokens(Tensor pixels, Tensor patchWeight, Tensor classEmbedding, Tensor positions) {
        ClipVisionConfig c = config;
        if (pixels.dim() != 4 || pixels.size(1) != 3 || pixels.size(2) != c.imageSize() || pixels.size(3) != c.imageSize()) {
            throw new IllegalArgumentException("pixels: expected [N, 3, " + c.imageSize() + ", " + c.imageSize() + "], found " + Arrays.toString(pixels.shape()));
        }
        try (TensorScope s = TensorScope.open()) {
            long n = pixels.size(0);
            Tensor x = Functional.conv2d(pixels.to(patchWeight.dtype()), patchWeight, null, c.patchSize(), 0, 1); // [N, width, g, g]
            x = x.flatten(2, 3).transpose(1, 2); // [N, g*g, width]
            Tensor cls = classEmbedding.reshape(1, 1, c.width()).expand(n, 1, c.width());
            return s.keep(Tensor.cat(List.of(cls, x), 1).add(positions));
        }
    }

    /** Bidirectional multi-head attention on projected q, k, v [N, L, width]: [N, L, width]. */
    protected Tensor attention(Tensor q, Tensor k, Tensor v) {
        try (TensorScope s = TensorScope.open()) {
            long n = q.size(0), l = q.size(1), h = config.heads(), dh = config.headDim();
            Tensor out = Functional.scaledDotProductAttention(heads(q, h, dh), heads(k, h, dh), heads(v, h, dh), null, 0, false, 0,
                    SdpaBackend.AUTO).output();
            return s.keep(out.transpose(1, 2).reshape(n, l, (long) config.width()));
        }
    }

    private static Tensor heads(Tensor x, long h, long dh) {
        return x.reshape(x.size(0), x.size(1), h, dh).transpose(1, 2);
    }
}
