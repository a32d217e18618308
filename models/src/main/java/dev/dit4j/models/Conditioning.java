package dev.dit4j.models;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;
import java.util.List;

/**
 * What a diffusion model is conditioned on, per sample: class labels, a text embedding sequence,
 * or nothing. Every value knows its null form, which classifier-free guidance runs beside it and
 * which training swaps in at random ({@link #dropped}) so that the model learns both.
 *
 * <p>A conditioning value borrows its tensors (the caller keeps owning them); the values derived
 * from it hold new tensors of the caller's innermost scope, as any op result.
 */
public sealed interface Conditioning {
    /** Samples in the batch. */
    long batchSize();

    /** The null form of every sample: the null label, the empty caption's encoding, or nothing. */
    Conditioning unconditional();

    /** Each sample replaced by its null form with probability {@code p}, drawn from {@code gen}. */
    Conditioning dropped(double p, Generator gen);

    /** This batch followed by {@code other}'s, which must be of the same kind. */
    Conditioning concat(Conditioning other);

    /** The same conditioning on {@code device}. */
    Conditioning to(Device device);

    /** Class labels [N] (int64) of a model with {@code numClasses} classes; label {@code numClasses} is the null label. */
    static Labels labels(Tensor labels, int numClasses) {
        return new Labels(labels, numClasses);
    }

    /** Text encoder tokens [N, T, D] without a mask; the null form is zeros. */
    static Text text(Tensor tokens) {
        return new Text(tokens, null, null, null);
    }

    /** Text encoder tokens [N, T, D] whose null form is the empty caption's encoding [1, T, D] (or [T, D]). */
    static Text text(Tensor tokens, Tensor emptyCaption) {
        return new Text(tokens, null, emptyCaption, null);
    }

    static None none(long batchSize) {
        return new None(batchSize);
    }

    /** Class labels; {@code numClasses} is both the class count and the null label. */
    record Labels(Tensor labels, int numClasses) implements Conditioning {
        public Labels {
            if (labels.dim() != 1 || labels.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("labels must be an integer [N] tensor; got " + labels.dtype() + " " + Arrays.toString(labels.shape()));
            }
            if (numClasses <= 0) throw new IllegalArgumentException("numClasses must be positive, got " + numClasses);
        }

        @Override
        public long batchSize() {
            return labels.size(0);
        }

        @Override
        public Labels unconditional() {
            return new Labels(Tensor.full(numClasses, labels.shape(), labels.dtype(), labels.device()), numClasses);
        }

        @Override
        public Labels dropped(double p, Generator gen) {
            try (TensorScope s = TensorScope.open()) {
                Tensor drop = Tensor.rand(labels.shape(), DType.FLOAT32, labels.device(), gen).lt(p);
                Tensor nulls = Tensor.full(numClasses, labels.shape(), labels.dtype(), labels.device());
                return new Labels(s.keep(Tensor.where(drop, nulls, labels)), numClasses);
            }
        }

        @Override
        public Labels concat(Conditioning other) {
            Labels o = same(this, other);
            if (o.numClasses != numClasses) throw new IllegalArgumentException("cannot join labels of " + numClasses + " and " + o.numClasses + " classes");
            return new Labels(Tensor.cat(List.of(labels, o.labels), 0), numClasses);
        }

        @Override
        public Labels to(Device device) {
            return new Labels(labels.to(device), numClasses);
        }
    }

    /**
     * A text encoder's output: {@code tokens} [N, T, D]; {@code mask} [N, T] (1 for real tokens) or
     * null where the model attends to every token; the null form is {@code emptyCaption} [1, T, D]
     * or [T, D] (the encoding of the empty prompt, as U-ViT samples MS-COCO) with its
     * {@code emptyMask} [1, T], or zeros when no encoding is given.
     */
    record Text(Tensor tokens, Tensor mask, Tensor emptyCaption, Tensor emptyMask) implements Conditioning {
        public Text {
            if (tokens.dim() != 3) throw new IllegalArgumentException("text tokens must be [N, T, D]; got " + Arrays.toString(tokens.shape()));
            if (mask != null && (mask.dim() != 2 || mask.size(0) != tokens.size(0) || mask.size(1) != tokens.size(1))) {
                throw new IllegalArgumentException("text mask must be [N, T] = [" + tokens.size(0) + ", " + tokens.size(1) + "]; got " + Arrays.toString(mask.shape()));
            }
            if (emptyCaption != null && emptyCaption.numel() != tokens.size(1) * tokens.size(2)) {
                throw new IllegalArgumentException("the empty caption's encoding must be [T, D] or [1, T, D] = [1, " + tokens.size(1) + ", "
                        + tokens.size(2) + "]; got " + Arrays.toString(emptyCaption.shape()));
            }
        }

        @Override
        public long batchSize() {
            return tokens.size(0);
        }

        @Override
        public Text unconditional() {
            long n = tokens.size(0), t = tokens.size(1), d = tokens.size(2);
            Tensor nullTokens = emptyCaption == null ? Tensor.zeros(tokens.shape(), tokens.dtype(), tokens.device())
                    : emptyCaption.reshape(1, t, d).to(tokens.device(), tokens.dtype()).expand(n, t, d).contiguous();
            Tensor nullMask = mask == null ? null : emptyMask == null ? Tensor.ones(mask.shape(), mask.dtype(), mask.device())
                    : emptyMask.reshape(1, t).to(mask.device(), mask.dtype()).expand(n, t).contiguous();
            return new Text(nullTokens, nullMask, emptyCaption, emptyMask);
        }

        @Override
        public Text dropped(double p, Generator gen) {
            try (TensorScope s = TensorScope.open()) {
                Text empty = unconditional();
                Tensor drop = Tensor.rand(new long[] {tokens.size(0)}, DType.FLOAT32, tokens.device(), gen).lt(p);
                Tensor tok = Tensor.where(drop.reshape(-1, 1, 1), empty.tokens, tokens);
                Tensor m = mask == null ? null : s.keep(Tensor.where(drop.reshape(-1, 1), empty.mask, mask));
                return new Text(s.keep(tok), m, emptyCaption, emptyMask);
            }
        }

        @Override
        public Text concat(Conditioning other) {
            Text o = same(this, other);
            if ((mask == null) != (o.mask == null)) throw new IllegalArgumentException("cannot join text with and without a mask");
            Tensor m = mask == null ? null : Tensor.cat(List.of(mask, o.mask), 0);
            return new Text(Tensor.cat(List.of(tokens, o.tokens), 0), m, emptyCaption, emptyMask);
        }

        @Override
        public Text to(Device device) {
            return new Text(tokens.to(device), mask == null ? null : mask.to(device), emptyCaption, emptyMask);
        }
    }

    /** No conditioning (an unconditional model): only the batch size. */
    record None(long batchSize) implements Conditioning {
        @Override
        public None unconditional() {
            return this;
        }

        @Override
        public None dropped(double p, Generator gen) {
            return this;
        }

        @Override
        public None concat(Conditioning other) {
            return new None(batchSize + same(this, other).batchSize);
        }

        @Override
        public None to(Device device) {
            return this;
        }
    }

    @SuppressWarnings("unchecked")
    private static <C extends Conditioning> C same(C self, Conditioning other) {
        if (other.getClass() != self.getClass()) {
            throw new IllegalArgumentException("cannot join " + self.getClass().getSimpleName() + " conditioning with " + other.getClass().getSimpleName());
        }
        return (C) other;
    }
}
