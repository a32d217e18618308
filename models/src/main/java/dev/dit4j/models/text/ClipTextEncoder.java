package dev.dit4j.models.text;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import java.util.Arrays;
import java.util.List;

/**
 * A CLIP text encoder: token ids [N, L] (L up to the context length, 77) to hidden states
 * [N, L, width] after the final LayerNorm (what U-ViT and MicroDiT consume), and the pooled
 * end-token feature. {@link ClipTextModel} and {@link OpenClipTextTower} are its two key layouts.
 */
public abstract class ClipTextEncoder extends Module {
    private final ClipTextConfig config;
    private final Device device;

    protected ClipTextEncoder(VarBuilder vb, ClipTextConfig config) {
        super(vb);
        this.config = config;
        this.device = vb.device();
    }

    public ClipTextConfig config() {
        return config;
    }

    /** The last hidden state [N, L, width] of int64 ids [N, L]. */
    public abstract Tensor forward(Tensor ids);

    /**
     * The hidden states [N, contextLength, width] of {@code captions}, tokenized by {@code tokenizer}
     * and run on this encoder's device: what a text-to-image model is conditioned on (the empty
     * caption's encoding is U-ViT's null condition).
     */
    public Tensor encode(ClipTokenizer tokenizer, List<String> captions) {
        if (tokenizer.contextLength() > config.contextLength()) {
            throw new IllegalArgumentException("the tokenizer's context of " + tokenizer.contextLength() + " tokens exceeds this encoder's " + config.contextLength());
        }
        try (TensorScope s = TensorScope.open()) {
            Tensor ids = tokenizer.tokenize(captions);
            return s.keep(forward(ids.to(device)));
        }
    }

    /**
     * The pooled feature [N, width] (or [N, projectionDim] where the file has OpenCLIP's
     * text_projection): the hidden state at the end token, found as each model's authors find it.
     */
    public abstract Tensor pooled(Tensor ids, Tensor lastHidden);

    /** The hidden state of each row at {@code index} [N]: [N, width]. */
    protected static Tensor at(Tensor hidden, Tensor index) {
        try (TensorScope s = TensorScope.open()) {
            long n = hidden.size(0), d = hidden.size(2);
            Tensor idx = index.to(DType.INT64).reshape(n, 1, 1).expand(n, 1, d);
            return s.keep(hidden.gather(1, idx).squeeze(1));
        }
    }

    /** Checks ids: int64 [N, L] with {@code 1 <= L <=} the context length and every id in the vocabulary. */
    protected void checkIds(Tensor ids) {
        if (ids.dim() != 2 || ids.size(1) < 1 || ids.size(1) > config.contextLength()) {
            throw new IllegalArgumentException("token ids: expected [N, L] with L <= " + config.contextLength() + ", found " + Arrays.toString(ids.shape()));
        }
        if (ids.dtype() != DType.INT64 && ids.dtype() != DType.INT32) throw new IllegalArgumentException("token ids: expected int64, found " + ids.dtype());
        if (ids.numel() == 0) return;
        try (TensorScope s = TensorScope.open()) {
            long min = (long) ids.min().item(), max = (long) ids.max().item();
            if (min < 0 || max >= config.vocabSize()) {
                throw new IllegalArgumentException("token ids: expected ids in [0, " + config.vocabSize() + "), found [" + min + ", " + max + "]");
            }
        }
    }

    /** Causal multi-head attention on projected q, k, v [N, L, width]: [N, L, width]. */
    protected Tensor causalAttention(Tensor q, Tensor k, Tensor v) {
        try (TensorScope s = TensorScope.open()) {
            long n = q.size(0), l = q.size(1);
            long h = config.heads(), dh = config.headDim();
            Tensor out = Functional.scaledDotProductAttention(heads(q, h, dh), heads(k, h, dh), heads(v, h, dh), null, 0, true, 0,
                    dev.dit4j.nn.SdpaBackend.AUTO).output();
            return s.keep(out.transpose(1, 2).reshape(n, l, (long) config.width()));
        }
    }

    private static Tensor heads(Tensor x, long h, long dh) {
        return x.reshape(x.size(0), x.size(1), h, dh).transpose(1, 2);
    }
}
