package dev.dit4j.models.text;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Embedding;
import dev.dit4j.nn.layers.LayerNorm;
import java.util.List;

/**
 * CLIP's text transformer under transformers' CLIPTextModel names: {@code embeddings.token_embedding},
 * {@code embeddings.position_embedding}, {@code encoder.layers.N.{self_attn.{q,k,v,out}_proj,
 * layer_norm1, mlp.fc1, mlp.fc2, layer_norm2}}, {@code final_layer_norm} (files may put all of it
 * under {@code text_model.}; see {@link ClipTextConfig#load}).
 */
public final class ClipTextModel extends ClipTextEncoder {
    private final Embedding tokenEmbedding;
    private final Embedding positionEmbedding;
    private final List<ClipLayer> layers;
    private final LayerNorm finalLayerNorm;

    public ClipTextModel(VarBuilder vb, ClipTextConfig c) {
        super(vb, c);
        tokenEmbedding = registerModule("embeddings.token_embedding", Embedding.of(c.vocabSize(), c.width()));
        positionEmbedding = registerModule("embeddings.position_embedding", Embedding.of(c.contextLength(), c.width()));
        ModuleList<ClipLayer> list = registerModule("encoder.layers", ModuleList::new);
        for (int i = 0; i < c.layers(); i++) list.add(p -> new ClipLayer(p, c.width(), c.mlpWidth(), c.activation(), c.eps(), this::causalAttention));
        layers = list.items();
        finalLayerNorm = registerModule("final_layer_norm", LayerNorm.of(c.width()).withEps(c.eps()));
    }

    @Override
    public Tensor forward(Tensor ids) {
        checkIds(ids);
        try (TensorScope s = TensorScope.open()) {
            long l = ids.size(1);
            Tensor positions = Tensor.arange(0, l, 1, DType.INT64, ids.device());
            Tensor x = tokenEmbedding.forward(ids).add(positionEmbedding.forward(positions));
            for (ClipLayer layer : layers) x = layer.forward(x);
            return s.keep(finalLayerNorm.forward(x));
        }
    }

    /** transformers' pooler_output: at the largest id (eos_token_id 2, the legacy configs) or at the first end token. */
    @Override
    public Tensor pooled(Tensor ids, Tensor lastHidden) {
        try (TensorScope s = TensorScope.open()) {
            int eos = config().eosTokenId();
            Tensor index = eos == 2 ? ids.argmax(-1, false) : ids.eq(eos).to(DType.INT64).argmax(-1, false);
            return s.keep(at(lastHidden, index));
        }
    }
}
