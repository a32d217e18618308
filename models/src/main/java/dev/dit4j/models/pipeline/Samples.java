package dev.dit4j.models.pipeline;

import dev.dit4j.models.data.Images;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * What a pipeline sampled, on the CPU: the final latents [N, C, h, w] (float32), the labels [N]
 * (int64; zeros for text and unconditional models), and the images [N, C, H, W] in [-1, 1] (C = 1 or 3)
 * (null when the model samples latents and no autoencoder decodes them). Owns its tensors.
 */
public record Samples(Tensor latents, Tensor labels, Tensor images) implements AutoCloseable {
    /** The images as uint8 [N, H, W, C] (ADM's sample files' arr_0), clamp(127.5 x + 128) truncated as {@link Images#toByte}. */
    public Tensor uint8() {
        requireImages();
        try (TensorScope s = TensorScope.open()) {
            return s.keep(images.mul(127.5).add(128).clamp(0, 255).to(DType.UINT8).permute(0, 2, 3, 1).contiguous());
        }
    }

    /** The images as Java images, one per sample. */
    public List<BufferedImage> toImages() {
        requireImages();
        List<BufferedImage> out = new ArrayList<>();
        for (int i = 0; i < images.size(0); i++) {
            try (TensorScope s = TensorScope.open()) {
                out.add(Images.grid(images.narrow(0, i, 1), 1, 0));
            }
        }
        return out;
    }

    public long count() {
        return latents.size(0);
    }

    private void requireImages() {
        if (images == null) throw new IllegalStateException("these samples are latents only: load the pipeline with an autoencoder to decode them");
    }

    /** Joins batches in order, taking ownership of none of them. */
    static Samples join(List<Samples> parts) {
        try (TensorScope s = TensorScope.open()) {
            Tensor latents = s.keep(Tensor.cat(parts.stream().map(Samples::latents).toList(), 0));
            Tensor labels = s.keep(Tensor.cat(parts.stream().map(Samples::labels).toList(), 0));
            Tensor images = parts.get(0).images() == null ? null : s.keep(Tensor.cat(parts.stream().map(Samples::images).toList(), 0));
            return new Samples(TensorScope.release(latents), TensorScope.release(labels), images == null ? null : TensorScope.release(images));
        }
    }

    @Override
    public void close() {
        latents.close();
        labels.close();
        if (images != null) images.close();
    }
}
