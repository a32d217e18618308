package dev.dit4j.examples;

import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code parity --model sd-vae} (or another autoencoder preset: sdxl-vae, uvit-mscoco-vae,
 * kl-f8-d16): the autoencoder that the weights' shapes describe, in either layout, at the
 * preset's latent scale. Images {@code x} [N, 3, H, W] in [-1, 1] give {@code moments} (the
 * quant_conv output [N, 2z, H/8, W/8]); scaled latents {@code z} [N, z, h, w] give
 * {@code decoded} [N, 3, 8h, 8w]. Either input may be absent, not both.
 */
final class VaeParity {
    private VaeParity() {}

    /** True when {@code model} names an autoencoder preset rather than a diffusion model. */
    static boolean handles(String model) {
        return AutoencoderKL.PRESETS.find(model).isPresent();
    }

    static int run(String model, Path weights, Path inputs, Path out, Double cfg, Device device) {
        if (cfg != null) throw new IllegalArgumentException("--cfg does not apply to the autoencoder " + model);
        AutoencoderKL.Config preset = AutoencoderKL.PRESETS.get(model);
        try (Safetensors.Contents in = Safetensors.read(inputs); TensorScope scope = TensorScope.open(); var g = Autograd.noGrad()) {
            Tensor x = in.tensors().get("x"), z = in.tensors().get("z");
            if (x == null && z == null) throw new IllegalArgumentException(inputs + " has neither 'x' (images to encode) nor 'z' (latents to decode)");
            AutoencoderKL.Config config = AutoencoderKL.Config.inferFrom(weights).withScalingFactor(preset.scalingFactor());
            int f = config.downsampling();
            if (x != null) {
                check(inputs, "x", x, x.dim() == 4 && x.size(1) == config.inChannels() && x.dtype().isFloatingPoint(),
                        "floating-point images [N, " + config.inChannels() + ", H, W]");
                check(inputs, "x", x, x.size(2) % f == 0 && x.size(3) % f == 0, "H and W divisible by " + f + " (the autoencoder's downsampling)");
            }
            if (z != null) {
                check(inputs, "z", z, z.dim() == 4 && z.size(1) == config.embedDim() && z.dtype().isFloatingPoint(),
                        "floating-point latents [N, " + config.embedDim() + ", h, w], as the weights " + weights + " decode");
            }
            Map<String, Tensor> results = new LinkedHashMap<>();
            try (AutoencoderKL vae = config.load(weights, device)) {
                vae.eval();
                if (x != null) results.put("moments", vae.encodeMoments(x.to(device)));
                if (z != null) results.put("decoded", vae.decode(z.to(device).div(vae.scalingFactor())));
            }
            Safetensors.save(out, results, Map.of("model", model, "weights", weights.toString(), "config", config.toString()));
        }
        System.out.println("parity: wrote " + out);
        return 0;
    }

    private static void check(Path inputs, String name, Tensor t, boolean ok, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("tensor '" + name + "' of " + inputs + ": expected " + expected + ", found "
                    + t.dtype() + " " + Arrays.toString(t.shape()));
        }
    }
}
