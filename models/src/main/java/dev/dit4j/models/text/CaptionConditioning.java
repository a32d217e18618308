package dev.dit4j.models.text;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.nn.Tensor;
import java.util.Arrays;

/**
 * Caption embeddings as a text-to-image model's conditioning, with the null form its authors drop
 * captions to in training and guide against in sampling: zeros for MicroDiT, the empty caption's
 * encoding for U-ViT's text models.
 */
public final class CaptionConditioning {
    private CaptionConditioning() {}

    /** The width [D] and length [T] of the caption tokens {@code model} takes; a model without text conditioning is refused by name. */
    public static long[] tokenShape(DiffusionModel<?> model) {
        if (model instanceof MicroDiT m) return new long[] {-1, m.config().captionChannels()}; // any caption length
        if (model instanceof UViT u && u.config().textConditional()) return new long[] {u.config().contextTokens(), u.config().contextDim()};
        throw new IllegalArgumentException(model.config().name() + " has no text conditioning: it cannot be prompted (a MicroDiT or a U-ViT text model can)");
    }

    /**
     * {@code tokens} [N, T, D] for {@code model}; {@code emptyCaption} [1, T, D] is the encoding of ""
     * (needed for U-ViT, ignored for MicroDiT, whose null caption is zeros).
     */
    public static Conditioning.Text of(DiffusionModel<?> model, Tensor tokens, Tensor emptyCaption) {
        long[] shape = tokenShape(model);
        boolean fits = tokens.dim() == 3 && (shape[0] < 0 || tokens.size(1) == shape[0]) && tokens.size(2) == shape[1];
        if (!fits) {
            throw new IllegalArgumentException(model.config().name() + " takes caption tokens [N, " + (shape[0] < 0 ? "T" : shape[0]) + ", " + shape[1]
                    + "]; got " + Arrays.toString(tokens.shape()) + " (is the text encoder's width " + shape[1] + "?)");
        }
        if (model instanceof MicroDiT) return Conditioning.text(tokens);
        if (emptyCaption == null) throw new IllegalArgumentException(model.config().name() + " guides against the empty caption's encoding; none was given");
        return Conditioning.text(tokens, emptyCaption);
    }
}
