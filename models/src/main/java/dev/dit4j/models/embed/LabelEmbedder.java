package dev.dit4j.models.embed;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Embedding;

/**
 * DiT's label embedder (U-DiT's too): a class table N(0, 0.02) with one extra row when labels are
 * dropped, the null label {@code numClasses} used for guidance (key {@code embedding_table}). In
 * training mode each label becomes the null label with probability {@code dropout}, as the
 * authors' token_drop.
 */
public final class LabelEmbedder extends Module {
    private final Embedding table;
    private final int numClasses;
    private final double dropout;

    public LabelEmbedder(VarBuilder vb, int numClasses, int hidden, double dropout) {
        super(vb);
        this.numClasses = numClasses;
        this.dropout = dropout;
        int rows = numClasses + (dropout > 0 ? 1 : 0);
        table = registerModule("embedding_table", Embedding.of(rows, hidden).withInit(Init.normal(0.02)));
    }

    /** labels [N] int64 -> [N, hidden]; dropped at random only when {@code train}. */
    public Tensor forward(Tensor labels, boolean train) {
        if (!train || dropout <= 0) return table.forward(labels);
        try (TensorScope s = TensorScope.open()) {
            Tensor drop = Tensor.rand(labels.shape(), DType.FLOAT32, labels.device(), null).lt(dropout);
            Tensor nulls = Tensor.full(numClasses, labels.shape(), labels.dtype(), labels.device());
            return s.keep(table.forward(Tensor.where(drop, nulls, labels)));
        }
    }
}
