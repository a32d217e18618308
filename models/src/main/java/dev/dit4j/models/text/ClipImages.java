package dev.dit4j.models.text;

import dev.dit4j.models.data.PillowResize;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * CLIP's image preprocessing, as transformers' CLIPImageProcessor (the PIL one) and open_clip's
 * transform give the towers their input: uint8 RGB images with the short side resized to the
 * tower's size with Pillow's bicubic filter and the centre square cut
 * ({@link PillowResize#shortSideCenterCrop}), scaled to [0, 1] and normalised with OpenAI's
 * per-channel mean and standard deviation.
 */
public final class ClipImages {
    private ClipImages() {}

    /** OpenAI's CLIP normalisation (open_clip's OPENAI_DATASET_MEAN/STD, transformers' OPENAI_CLIP_MEAN/STD). */
    public static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};
    public static final double[] STD = {0.26862954, 0.26130258, 0.27577711};

    /** uint8 images [B, H, W, 3] (any device) to float32 pixels [B, 3, size, size] on the CPU. */
    public static Tensor preprocess(Tensor images, int size) {
        if (images.dim() != 4 || images.size(3) != 3 || images.dtype() != DType.UINT8) {
            throw new IllegalArgumentException("images: expected uint8 [B, H, W, 3], found " + images.dtype() + " " + Arrays.toString(images.shape()));
        }
        int b = (int) images.size(0), h = (int) images.size(1), w = (int) images.size(2);
        float[] out = new float[b * 3 * size * size];
        try (TensorScope s = TensorScope.open()) {
            byte[] all = images.to(Device.CPU).contiguous().asSegment().toArray(ValueLayout.JAVA_BYTE);
            int plane = size * size;
            for (int i = 0; i < b; i++) {
                byte[] one = Arrays.copyOfRange(all, i * h * w * 3, (i + 1) * h * w * 3);
                PillowResize.Pixels p = PillowResize.shortSideCenterCrop(new PillowResize.Pixels(w, h, 3, one), size);
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        for (int c = 0; c < 3; c++) {
                            float v = (float) (p.at(x, y, c) * (1 / 255.0));
                            out[((i * 3 + c) * plane) + y * size + x] = (float) ((v - MEAN[c]) / STD[c]);
                        }
                    }
                }
            }
        }
        return Tensor.of(out, b, 3, size, size);
    }
}
