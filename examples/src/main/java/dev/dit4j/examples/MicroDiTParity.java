package dev.dit4j.examples;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.Weights;
import dev.dit4j.models.microdit.TokenMask;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ./dit4j parity --model MicroDiT_Tiny_2|MicroDiT_XL_2 ...}: x [N, C, H, W], t [N] (the
 * network's c_noise = ln(sigma) / 4), y caption tokens [N, 1, S, D]; with {@code mask_noise}
 * [N, T] and a scalar {@code mask_ratio} the forward is deferred-masked, keeping per sample the
 * first int(T (1 - r)) tokens of argsort(mask_noise). Writes {@code out}, and for --cfg
 * {@code out_cfg} as the authors' forward_with_cfg (the doubled batch masked with mask_noise of
 * 2N rows, or of N rows used for both halves).
 */
final class MicroDiTParity {
    private final Path weights, inputs, out;
    private final Double cfg;
    private final String model;

    MicroDiTParity(String model, Path weights, Path inputs, Path out, Double cfg) {
        this.model = model;
        this.weights = weights;
        this.inputs = inputs;
        this.out = out;
        this.cfg = cfg;
    }

    static boolean handles(String model) {
        return MicroDiT.PRESETS.find(model).isPresent();
    }

    void run(Device dev) {
        try (Safetensors.Contents in = Safetensors.read(inputs); TensorScope scope = TensorScope.open(); var g = Autograd.noGrad()) {
            MicroDiT.Config config = checkedConfig(in);
            try (MicroDiT net = config.load(weights, dev)) {
                net.eval();
                Tensor x = in.tensors().get("x").to(dev), t = in.tensors().get("t").to(dev), y = in.tensors().get("y").to(dev);
                Tensor noise = in.tensors().get("mask_noise");
                double ratio = noise == null ? 0 : in.tensors().get("mask_ratio").item();
                if (ratio == 0) noise = null; // as the authors: no masking at ratio 0
                Map<String, Tensor> results = new LinkedHashMap<>();
                long n = x.size(0);
                Tensor keep = noise == null ? null : TokenMask.fromNoise(noise.narrow(0, 0, n).to(dev), ratio);
                results.put("out", net.forward(x, t, y, keep));
                if (cfg != null) {
                    Tensor doubled = noise == null ? null : noise.size(0) == 2 * n ? noise : Tensor.cat(List.of(noise, noise), 0);
                    results.put("out_cfg", net.guided(Conditioning.text(y), cfg).apply(x, t, doubled == null ? null : TokenMask.fromNoise(doubled.to(dev), ratio)));
                }
                Safetensors.save(out, results, Map.of("model", model, "weights", weights.toString()));
            }
        }
        System.out.println("parity: wrote " + out);
    }

    /** Every input checked against x and the weights (caption width, channels) before the model is built. */
    private MicroDiT.Config checkedConfig(Safetensors.Contents in) {
        Tensor x = required(in, "x");
        if (x.dim() != 4 || x.size(2) != x.size(3)) fail("x", "[N, C, H, W] with H = W", Arrays.toString(x.shape()));
        if (!x.dtype().isFloatingPoint()) fail("x", "floating point", x.dtype().toString());
        long n = x.size(0);
        Tensor t = required(in, "t");
        if (t.dim() != 1 || t.size(0) != n) fail("t", "[N] = [" + n + "] (c_noise = ln(sigma) / 4 per x)", Arrays.toString(t.shape()));
        long captionWidth;
        try (WeightSource source = Weights.open(weights)) {
            long[] fc1 = source.shape("y_embedder.y_proj.fc1.weight");
            long[] stem = source.shape("x_embedder.proj.weight");
            if (fc1 == null || stem == null) throw new IllegalArgumentException(weights + " is not a MicroDiT state dict: no y_embedder.y_proj.fc1.weight or x_embedder.proj.weight");
            if (stem[1] != x.size(1)) fail("x", stem[1] + " channels, as the weights " + weights + " take", x.size(1) + " channels");
            captionWidth = fc1[1];
        }
        Tensor y = required(in, "y");
        if (y.dim() != 4 || y.size(0) != n || y.size(1) != 1 || y.size(3) != captionWidth) {
            fail("y", "caption tokens [N, 1, S, D] = [" + n + ", 1, S, " + captionWidth + "]", Arrays.toString(y.shape()));
        }
        MicroDiT.Config config = MicroDiT.PRESETS.get(model).withInputSize((int) x.size(2)).withInChannels((int) x.size(1))
                .withCaptionChannels((int) captionWidth);
        Tensor noise = in.tensors().get("mask_noise");
        if (noise != null) {
            if (noise.dim() != 2 || (noise.size(0) != n && noise.size(0) != 2 * n) || noise.size(1) != config.tokens()) {
                fail("mask_noise", "[N, T] = [" + n + ", " + config.tokens() + "]", Arrays.toString(noise.shape()));
            }
            Tensor ratio = required(in, "mask_ratio");
            if (ratio.numel() != 1) fail("mask_ratio", "a scalar", Arrays.toString(ratio.shape()));
            double r = ratio.item();
            if (!(r >= 0 && r < 1)) fail("mask_ratio", "a ratio in [0, 1)", Double.toString(r));
        }
        return config;
    }

    private void fail(String tensor, String expected, String found) {
        throw new IllegalArgumentException("tensor '" + tensor + "' of " + inputs + ": expected " + expected + ", found " + found);
    }

    private Tensor required(Safetensors.Contents in, String key) {
        Tensor v = in.tensors().get(key);
        if (v == null) throw new IllegalArgumentException(inputs + " has no tensor '" + key + "'");
        return v;
    }
}
