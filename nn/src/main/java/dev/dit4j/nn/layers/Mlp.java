package dev.dit4j.nn.layers;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.function.UnaryOperator;

/** fc1 -> GELU -> fc2, as timm's Mlp (keys {@code fc1.*}, {@code fc2.*}). */
public final class Mlp extends Module {
    /** dim -> hidden -> dim; {@code linears} adjusts both Linears' options (their initialisation). */
    @RecordBuilder
    public record Options(long dim, long hidden, Gelu gelu, UnaryOperator<Linear.Options> linears)
            implements ModuleSpec<Mlp>, MlpOptionsBuilder.With {
        @Override
        public Mlp build(VarBuilder vb) {
            return new Mlp(vb, this);
        }
    }

    /** Exact GELU, PyTorch's default initialisation. */
    public static Options of(long dim, long hidden) {
        return new Options(dim, hidden, Gelu.EXACT, UnaryOperator.identity());
    }

    private final Linear fc1;
    private final Linear fc2;
    private final Gelu gelu;

    public Mlp(VarBuilder vb, Options o) {
        super(vb);
        this.fc1 = registerModule("fc1", o.linears().apply(Linear.of(o.dim(), o.hidden())));
        this.fc2 = registerModule("fc2", o.linears().apply(Linear.of(o.hidden(), o.dim())));
        this.gelu = o.gelu();
    }

    public Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor hidden = gelu == Gelu.TANH ? fc1.forwardGeluTanh(x) : gelu.apply(fc1.forward(x));
            return s.keep(fc2.forward(hidden));
        }
    }
}
