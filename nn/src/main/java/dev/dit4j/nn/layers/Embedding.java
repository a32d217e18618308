package dev.dit4j.nn.layers;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.VarBuilder;
import io.soabase.recordbuilder.core.RecordBuilder;

/** A lookup table {@code weight} [count, dim], initialised N(0, 1) like PyTorch's unless told otherwise. */
public final class Embedding extends Module {
    /** An embedding's table size and initialisation; {@link #build} makes the layer under a {@link VarBuilder}. */
    @RecordBuilder
    public record Options(long count, long dim, Init init) implements ModuleSpec<Embedding>, EmbeddingOptionsBuilder.With {
        @Override
        public Embedding build(VarBuilder vb) {
            return new Embedding(vb, this);
        }
    }

    public static Options of(long count, long dim) {
        return new Options(count, dim, Init.normal(1));
    }

    private final Tensor weight;

    public Embedding(VarBuilder vb, Options o) {
        super(vb);
        this.weight = registerParameter("weight", new long[] {o.count(), o.dim()}, o.init());
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor forward(Tensor indices) {
        return Functional.embedding(weight, indices);
    }
}
