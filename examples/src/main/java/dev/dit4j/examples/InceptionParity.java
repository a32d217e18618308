package dev.dit4j.examples;

import dev.dit4j.models.eval.InceptionV3;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code parity --model inception-v3-fid}: pytorch-fid's Inception on images {@code x} (uint8
 * [N, H, W, 3], or floating point [N, 3, H, W] in [0, 1]), writing {@code pool3} [N, 2048],
 * {@code spatial} [N, 7 x 17 x 17] (sFID's features) and {@code logits} [N, 1008].
 */
final class InceptionParity {
    static final String MODEL = "inception-v3-fid";

    private InceptionParity() {}

    static boolean handles(String model) {
        return MODEL.equalsIgnoreCase(model);
    }

    static int run(Path weights, Path inputs, Path out, Double cfg, Device device) {
        if (cfg != null) throw new IllegalArgumentException("--cfg does not apply to " + MODEL);
        try (Safetensors.Contents in = Safetensors.read(inputs); TensorScope scope = TensorScope.open()) {
            Tensor x = in.tensors().get("x");
            if (x == null) throw new IllegalArgumentException(inputs + " has no tensor 'x' (images: uint8 [N, H, W, 3] or float [N, 3, H, W] in [0, 1])");
            boolean bytes = x.dtype() == dev.dit4j.nn.DType.UINT8;
            if (x.dim() != 4 || (bytes ? x.size(3) != 3 : !x.dtype().isFloatingPoint() || x.size(1) != 3)) {
                throw new IllegalArgumentException("tensor 'x' of " + inputs + ": expected uint8 [N, H, W, 3] or floating-point [N, 3, H, W] "
                        + "in [0, 1], found " + x.dtype() + " " + Arrays.toString(x.shape()));
            }
            try (InceptionV3 net = InceptionV3.load(weights, device)) {
                InceptionV3.Features f = net.features(x);
                Map<String, Tensor> results = new LinkedHashMap<>();
                results.put("pool3", f.pool3());
                results.put("spatial", f.spatial());
                results.put("logits", f.logits());
                Safetensors.save(out, results, Map.of("model", MODEL, "weights", weights.toString()));
            }
        }
        System.out.println("parity: wrote " + out);
        return 0;
    }
}
