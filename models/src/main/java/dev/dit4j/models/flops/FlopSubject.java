package dev.dit4j.models.flops;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * One row of a FLOP table: how to build a model and run it forward once at batch 1.
 *
 * @param name      the row's label, e.g. "DiT-XL/2"
 * @param build     builds the model on a device (weights are irrelevant to the count)
 * @param forward   runs one batch-1 forward of the built model on that device
 * @param reference the published GMACs as printed (e.g. "118.6"), or null when there is none
 * @param countsNorms whether the reference adds layer norms (fvcore: 4 FLOPs per element) to the MACs
 */
public record FlopSubject(String name, Function<Device, ? extends Module> build, BiConsumer<Module, Device> forward,
                          String reference, boolean countsNorms) {
    public FlopSubject {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a FLOP subject needs a name");
    }

    /**
     * A class-conditional diffusion model (DiT, U-ViT, U-DiT) of {@code numClasses} classes fed
     * x [1, channels, size, size], t = [500], y = [0].
     */
    public static FlopSubject classConditional(String name, Function<Device, ? extends DiffusionModel<?>> build, int channels,
                                               int size, int numClasses, String reference) {
        if (channels <= 0 || size <= 0) {
            throw new IllegalArgumentException(name + ": input channels and size must be positive, got " + channels + ", " + size);
        }
        return new FlopSubject(name, build, (model, device) -> {
            Tensor x = Tensor.randn(new long[] {1, channels, size, size}, DType.FLOAT32, device, null);
            Tensor t = Tensor.full(500, new long[] {1}, DType.FLOAT32, device);
            Tensor y = Tensor.zeros(new long[] {1}, DType.INT64, device);
            ((DiffusionModel<?>) model).forward(x, t, Conditioning.labels(y, numClasses));
        }, reference, false);
    }

    /** The same row, counted with layer norms as fvcore counts them (U-DiT's published figures). */
    public FlopSubject withNorms() {
        return new FlopSubject(name, build, forward, reference, true);
    }
}
