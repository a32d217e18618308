package dev.dit4j.nn.layers;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.SdpaBackend;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Multi-head self-attention with a fused qkv projection laid out [q | k | v], each head-major
 * (timm's Attention: keys {@code qkv.*}, {@code proj.*}), computed with SDPA.
 */
public final class SelfAttention extends Module {
    /** dim split over heads; {@code linears} adjusts both projections' options (their initialisation). */
    @RecordBuilder
    public record Options(long dim, long heads, boolean qkvBias, UnaryOperator<Linear.Options> linears)
            implements ModuleSpec<SelfAttention>, SelfAttentionOptionsBuilder.With {
        public Options {
            if (heads <= 0 || dim % heads != 0) throw new IllegalArgumentException("dim " + dim + " is not divisible by " + heads + " heads");
        }

        @Override
        public SelfAttention build(VarBuilder vb) {
            return new SelfAttention(vb, this);
        }
    }

    /** No qkv bias (timm's default), PyTorch's default initialisation. */
    public static Options of(long dim, long heads) {
        return new Options(dim, heads, false, UnaryOperator.identity());
    }

    private final Linear qkv;
    private final Linear proj;
    private final long heads;
    private SdpaBackend backend = SdpaBackend.AUTO;

    public SelfAttention(VarBuilder vb, Options o) {
        super(vb);
        this.heads = o.heads();
        this.qkv = registerModule("qkv", o.linears().apply(Linear.of(o.dim(), 3 * o.dim()).withBias(o.qkvBias())));
        this.proj = registerModule("proj", o.linears().apply(Linear.of(o.dim(), o.dim())));
    }

    /** Pins the attention kernel (AUTO lets libtorch choose per shape). */
    public void backend(SdpaBackend backend) {
        this.backend = backend;
    }

    /** x: [N, L, D] -> [N, L, D]. */
    public Tensor forward(Tensor x) {
        long[] s = x.shape();
        long n = s[0], l = s[1], d = s[2];
        try (TensorScope scope = TensorScope.open()) {
            List<Tensor> qkvHeads = qkv.forward(x).reshape(n, l, 3, heads, d / heads).permute(2, 0, 3, 1, 4).unbind(0);
            Tensor out = Functional.scaledDotProductAttention(qkvHeads.get(0), qkvHeads.get(1), qkvHeads.get(2), null, 0, false, 0, backend).output();
            return scope.keep(proj.forward(out.transpose(1, 2).reshape(n, l, d)));
        }
    }
}
