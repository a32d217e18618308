package dev.dit4j.examples;

import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTextWeights;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code parity} for the CLIP text encoders: input_ids [N, L] in, the last hidden state out
 * ({@code out}: transformers' last_hidden_state, or OpenCLIP's tokens after ln_final) and the
 * pooled end-token feature ({@code pooled}). The weights' layout and sizes are read from the file.
 */
final class TextEncoderParity {
    private TextEncoderParity() {}

    /** Whether {@code model} names a CLIP text-encoder preset. */
    static boolean handles(String model) {
        return ClipTextConfig.PRESETS.find(model).isPresent();
    }

    static int run(String model, Path weights, Path inputs, Path out, Device dev) {
        ClipTextConfig cfg = ClipTextWeights.configFor(ClipTextConfig.PRESETS.get(model), weights);
        try (Safetensors.Contents in = Safetensors.read(inputs); TensorScope scope = TensorScope.open(); var g = Autograd.noGrad()) {
            Tensor ids = in.tensors().get("input_ids");
            if (ids == null) throw new IllegalArgumentException(inputs + " has no tensor 'input_ids' (token ids [N, 77], from ./dit4j tokenize)");
            if (ids.dim() != 2 || ids.dtype().isFloatingPoint() || ids.dtype() == DType.BOOL) {
                throw new IllegalArgumentException("tensor 'input_ids' of " + inputs + ": expected integer ids [N, L], found "
                        + ids.dtype() + " " + Arrays.toString(ids.shape()));
            }
            try (ClipTextEncoder encoder = cfg.load(weights, dev)) {
                encoder.eval();
                Tensor tokens = ids.to(dev, DType.INT64);
                Tensor hidden = encoder.forward(tokens);
                Map<String, Tensor> results = new LinkedHashMap<>();
                results.put("out", hidden);
                results.put("pooled", encoder.pooled(tokens, hidden));
                Safetensors.save(out, results, Map.of("model", cfg.name(), "layout", cfg.layout().name(), "weights", weights.toString()));
            }
        }
        System.out.println("parity: wrote " + out);
        return 0;
    }
}
