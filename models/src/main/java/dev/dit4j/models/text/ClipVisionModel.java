package dev.dit4j.models.text;

import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Embedding;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import java.util.List;

/**
 * CLIP's image tower under transformers' names: CLIPVisionModel's {@code embeddings.{class_embedding,
 * patch_embedding, position_embedding}}, {@code pre_layrnorm} (sic), {@code encoder.layers.N.{self_attn.{q,k,v,out}_proj,
 * layer_norm1, mlp.fc1, mlp.fc2, layer_norm2}}, {@code post_layernorm}, and CLIPModel's bias-free
 * {@code visual_projection} when the config has a projection (files keep the tower under
 * {@code vision_model.}; see {@link ClipVisionWeights#visionSection}).
 */
public final class ClipVisionModel extends ClipVisionEncoder {
    private final Embeddings embeddings;
    private final LayerNorm preLayerNorm, postLayerNorm;
    private final List<ClipLayer> layers;
    private final Linear projection;

    public ClipVisionModel(VarBuilder vb, ClipVisionConfig c) {
        super(vb, c);
        embeddings = registerModule("embeddings", p -> new Embeddings(p, c));
        preLayerNorm = registerModule("pre_layrnorm", LayerNorm.of(c.width()).withEps(c.eps()));
        ModuleList<ClipLayer> list = registerModule("encoder.layers", ModuleList::new);
        for (int i = 0; i < c.layers(); i++) list.add(p -> new ClipLayer(p, c.width(), c.mlpWidth(), c.activation(), c.eps(), this::attention));
        layers = list.items();
        postLayerNorm = registerModule("post_layernorm", LayerNorm.of(c.width()).withEps(c.eps()));
        projection = c.projectionDim() > 0 ? registerModule("visual_projection", Linear.of(c.width(), c.projectionDim()).withBias(false)) : null;
    }

    @Override
    public Tensor hidden(Tensor pixels) {
        try (TensorScope s = TensorScope.open()) {
            Tensor x = preLayerNorm.forward(tokens(pixels, embeddings.patch.weight(), embeddings.classEmbedding, embeddings.position.weight()));
            for (ClipLayer layer : layers) x = layer.forward(x);
            return s.keep(x);
        }
    }

    /** pooler_output = post_layernorm(last_hidden_state[:, 0]), then visual_projection. */
    @Override
    public Tensor embed(Tensor hidden) {
        try (TensorScope s = TensorScope.open()) {
            Tensor pooled = postLayerNorm.forward(hidden.select(1, 0));
            return s.keep(projection == null ? pooled : projection.forward(pooled));
        }
    }

    /** The pooled class token before the projection (transformers' pooler_output). */
    public Tensor pooled(Tensor hidden) {
        return postLayerNorm.forward(hidden.select(1, 0));
    }

    static final class Embeddings extends Module {
        final Tensor classEmbedding;
        final Conv2d patch;
        final Embedding position;

        Embeddings(VarBuilder vb, ClipVisionConfig c) {
            super(vb);
            classEmbedding = registerParameter("class_embedding", new long[] {c.width()}, Init.normal(1.0));
            patch = registerModule("patch_embedding", Conv2d.patchify(3, c.width(), c.patchSize()).withBias(false));
            position = registerModule("position_embedding", Embedding.of(c.tokens(), c.width()));
        }
    }
}
