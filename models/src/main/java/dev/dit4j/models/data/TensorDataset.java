package dev.dit4j.models.data;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * A dataset held in memory as two CPU tensors: images float32 [N, C, H, W] and labels int64 [N].
 * It owns them and frees them on close; batches read the image memory directly.
 */
public final class TensorDataset implements Dataset, AutoCloseable {
    private final Tensor images;
    private final Tensor labels;
    private final List<String> classes;
    private final long[] imageShape;
    private final int imageElements;
    private final long[] labelValues;
    private final MemorySegment pixels;

    public TensorDataset(Tensor images, Tensor labels, List<String> classes) {
        long[] shape = images.shape();
        if (shape.length != 4) throw new IllegalArgumentException("images must be [N, C, H, W], got " + Arrays.toString(shape));
        if (images.dtype() != DType.FLOAT32 || !images.device().equals(Device.CPU) || !images.isContiguous()) {
            throw new IllegalArgumentException("images must be a contiguous float32 CPU tensor, got " + images);
        }
        if (labels.dim() != 1 || labels.size(0) != shape[0] || labels.dtype() != DType.INT64) {
            throw new IllegalArgumentException("labels must be int64 [" + shape[0] + "], got " + labels);
        }
        this.images = images;
        this.labels = labels;
        this.classes = List.copyOf(classes);
        this.imageShape = new long[] {shape[1], shape[2], shape[3]};
        this.imageElements = Math.toIntExact(shape[1] * shape[2] * shape[3]);
        this.labelValues = labels.toLongArray();
        this.pixels = images.asSegment();
    }

    public Tensor images() {
        return images;
    }

    public Tensor labels() {
        return labels;
    }

    @Override
    public int size() {
        return labelValues.length;
    }

    @Override
    public long[] imageShape() {
        return imageShape.clone();
    }

    @Override
    public int imageElements() {
        return imageElements;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public long label(int index) {
        return labelValues[index];
    }

    @Override
    public void readImage(int index, float[] chw) {
        MemorySegment.copy(pixels, ValueLayout.JAVA_FLOAT, (long) index * imageElements * Float.BYTES, chw, 0, imageElements);
    }

    @Override
    public void close() {
        images.close();
        labels.close();
    }
}
