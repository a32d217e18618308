package dev.dit4j.models;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;

/**
 * A model's configuration, which knows how to build the model: with fresh weights from a seed
 * ({@link #create}) or directly from a weights file ({@link #load}: every tensor is read into the
 * parameter that keeps it, with no random initialisation first and no second copy).
 */
public interface ModelConfig<M extends Module> {
    /** The preset's or the user's name for this configuration. */
    String name();

    /** Builds the model at {@code vb}'s path, dtype and device. */
    M build(VarBuilder vb);

    /** A float32 model initialised as its authors do, from {@code seed}. */
    default M create(Device device, long seed) {
        return create(DType.FLOAT32, device, seed);
    }

    default M create(DType dtype, Device device, long seed) {
        try (Generator gen = Generator.create(seed, device)) {
            return build(VarBuilder.init(dtype, device, gen));
        }
    }

    /**
     * A float32 model built from {@code file} ({@code .safetensors}, or {@code .pt}/{@code .pth}/
     * {@code .bin} from torch.save; a training checkpoint's EMA weights are preferred; a composer
     * checkpoint gives its {@code state/model/dit.*}). Missing, unexpected and mis-shaped keys are
     * reported together in one exception.
     */
    default M load(Path file, Device device) {
        return load(file, DType.FLOAT32, device);
    }

    default M load(Path file, DType dtype, Device device) {
        try (WeightSource source = Weights.open(file)) {
            return load(source, dtype, device);
        }
    }

    /** A model built from an open source (which the caller still owns), e.g. one already probed for its shapes. */
    default M load(WeightSource source, DType dtype, Device device) {
        VarBuilder vb = VarBuilder.load(source, dtype, device);
        M model = build(vb);
        try {
            vb.finish();
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }
}
