package dev.dit4j.models.eval;

import dev.dit4j.models.Weights;
import dev.dit4j.models.text.ClipImages;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTextWeights;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.text.ClipVisionConfig;
import dev.dit4j.models.text.ClipVisionEncoder;
import dev.dit4j.models.text.ClipVisionWeights;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CLIP score for text-to-image models (Hessel et al., arXiv 2104.08718, with w = 100 as in
 * torchmetrics' CLIPScore): 100 x the mean over images of max(cos(E_I, E_C), 0), E_I the image
 * tower's embedding of an image and E_C the text tower's of its prompt. Images go through CLIP's
 * preprocessing ({@link ClipImages}); prompts through the CLIP tokenizer (open_clip's
 * truncation: an over-long prompt keeps its end token at position 77).
 *
 * <p>torchmetrics clamps the mean (max(mean cos, 0)) where the paper and its documented formula
 * clamp each pair; the two agree whenever no pair has a negative cosine, as with trained CLIP
 * models and real prompts. Both are given ({@link Result#score}, {@link Result#torchmetrics}).
 */
public final class ClipScore implements AutoCloseable {
    private final ClipVisionEncoder vision;
    private final ClipTextEncoder text;
    private final Tensor textProjection;
    private final ClipTokenizer tokenizer;
    private final Device device;

    /**
     * Takes ownership of the towers and the projection (closed with this score) once it returns;
     * throws, owning nothing, when the towers' embeddings differ in width.
     *
     * @param textProjection transformers' text_projection.weight [embed, width] applied to the text tower's
     *                       pooled output, or null where the tower projects itself (open_clip) or nothing is needed
     */
    public ClipScore(ClipVisionEncoder vision, ClipTextEncoder text, Tensor textProjection, ClipTokenizer tokenizer, Device device) {
        this.vision = vision;
        this.text = text;
        this.textProjection = textProjection == null ? null : TensorScope.release(textProjection);
        this.tokenizer = tokenizer;
        this.device = device;
        int textWidth = textProjection != null ? (int) textProjection.size(0)
                : text.config().layout() == ClipTextConfig.Layout.OPEN_CLIP && text.config().projectionDim() > 0 ? text.config().projectionDim()
                : text.config().width();
        if (textWidth != vision.config().embeddingDim()) {
            throw new IllegalArgumentException("the image tower embeds in " + vision.config().embeddingDim() + " dimensions but the text tower in "
                    + textWidth + (textProjection == null && text.config().layout() == ClipTextConfig.Layout.TRANSFORMERS
                    ? " (the text weights have no text_projection.weight)" : "") + ": they are not one CLIP model");
        }
    }

    /**
     * Both towers of the CLIP model in {@code weights} (transformers' CLIPModel or open_clip's, safetensors
     * or .pt/.bin), the text tower from {@code textWeights} instead when given; the tokenizer's vocabulary
     * from {@code vocab}. Sizes come from the tensors' shapes, heads and activation from a config file
     * beside the weights where the width is not a preset's (see {@link ClipVisionWeights#configFor}).
     */
    public static ClipScore load(Path weights, Path textWeights, Path vocab, Device device) {
        Path textFile = textWeights != null ? textWeights : weights;
        ClipVisionEncoder vision = ClipVisionWeights.configFor(weights).load(weights, device);
        ClipTextEncoder text = null;
        Tensor projection = null;
        try {
            ClipTextConfig probe = ClipTextWeights.configFor(ClipTextConfig.OPENCLIP_VIT_H_14, textFile);
            ClipTextConfig cfg = probe.layout() == ClipTextConfig.Layout.TRANSFORMERS ? ClipTextWeights.configFor(ClipTextConfig.CLIP_VIT_L_14, textFile) : probe;
            text = cfg.load(textFile, device);
            if (cfg.layout() == ClipTextConfig.Layout.TRANSFORMERS) {
                try (WeightSource source = Weights.open(textFile)) {
                    if (source.keys().contains("text_projection.weight")) projection = source.take("text_projection.weight", DType.FLOAT32, device);
                }
            }
            return new ClipScore(vision, text, projection, ClipTokenizer.open(vocab).withContextLength(cfg.contextLength()), device);
        } catch (RuntimeException e) {
            vision.close();
            if (text != null) text.close();
            if (projection != null) projection.close();
            throw e;
        }
    }

    public ClipVisionEncoder vision() {
        return vision;
    }

    public ClipTextEncoder text() {
        return text;
    }

    /** Image embeddings [B, embed] (float32, on this score's device) of uint8 images [B, H, W, 3]. */
    public Tensor imageFeatures(Tensor images) {
        try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
            vision.train(false);
            return s.keep(vision.forward(ClipImages.preprocess(images, vision.config().imageSize()).to(device)));
        }
    }

    /** Text embeddings [N, embed] of {@code prompts}. */
    public Tensor textFeatures(List<String> prompts) {
        try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
            text.train(false);
            Tensor ids = tokenizer.tokenize(prompts).to(device);
            Tensor pooled = text.pooled(ids, text.forward(ids));
            return s.keep(textProjection == null ? pooled : pooled.matmul(textProjection.transpose(0, 1)));
        }
    }

    /** The cosine of each row of {@code a} [N, d] with the same row of {@code b}, in float64. */
    public static double[] cosines(Tensor a, Tensor b) {
        if (a.dim() != 2 || !java.util.Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("cosines of rows need two [N, d] of one shape, found " + java.util.Arrays.toString(a.shape())
                    + " and " + java.util.Arrays.toString(b.shape()));
        }
        try (TensorScope s = TensorScope.open()) {
            Tensor x = a.to(Device.CPU, DType.FLOAT64), y = b.to(Device.CPU, DType.FLOAT64);
            Tensor dot = x.mul(y).sum(1, false);
            Tensor norms = x.norm(2, new long[] {1}, false).mul(y.norm(2, new long[] {1}, false));
            return dot.div(norms).toDoubleArray();
        }
    }

    /** 100 x mean(max(cos, 0)). */
    public static double score(double[] cosines) {
        if (cosines.length == 0) throw new IllegalArgumentException("a CLIP score needs at least one image");
        double sum = 0;
        for (double c : cosines) sum += Math.max(c, 0);
        return 100 * sum / cosines.length;
    }

    /** The score, torchmetrics' variant max(100 x mean(cos), 0), and every pair's cosine in order. */
    public record Result(double score, double torchmetrics, double[] cosines) {
        static Result of(double[] cosines) {
            double mean = 0;
            for (double c : cosines) mean += c / cosines.length;
            return new Result(ClipScore.score(cosines), Math.max(100 * mean, 0), cosines);
        }
    }

    /** The score of each image of {@code images} with the prompt at its index ({@code batch} images at a time); progress after each batch. */
    public Result score(ImageSource images, List<String> prompts, int batch, Evaluator.Progress progress) {
        if (images.count() != prompts.size()) {
            throw new IllegalArgumentException(images.describe() + " holds " + images.count() + " images but there are " + prompts.size()
                    + " prompts: one prompt per image, in order");
        }
        List<Double> cos = new ArrayList<>();
        long done = 0;
        progress.at(images.describe(), 0, images.count());
        while (true) {
            try (TensorScope s = TensorScope.open()) {
                Tensor x = images.next(batch);
                if (x == null) break;
                int n = (int) x.size(0);
                for (double c : cosines(imageFeatures(x), textFeatures(prompts.subList((int) done, (int) done + n)))) cos.add(c);
                done += n;
            }
            progress.at(images.describe(), done, images.count());
        }
        return Result.of(cos.stream().mapToDouble(Double::doubleValue).toArray());
    }

    @Override
    public void close() {
        vision.close();
        text.close();
        if (textProjection != null) textProjection.close();
    }
}
