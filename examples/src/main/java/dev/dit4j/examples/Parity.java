package dev.dit4j.examples;

import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.Weights;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs a model forward on inputs from a safetensors file and writes the outputs, so that dit4j
 * can be compared with a reference implementation on identical weights and inputs.
 */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = "Forward a model (DiT, U-ViT, U-DiT preset) on inputs (x, t, y or context) from a safetensors file; "
                + "write outputs to safetensors. --model sd-vae: encode x to moments, decode z to decoded. CLIP text encoders "
                + "(clip-vit-l-14-text, openclip-vit-h-14-text) take input_ids and write out (the last hidden state) and pooled. "
                + "--model inception-v3-fid (pytorch-fid's .pth) takes x (uint8 [N,H,W,3] or float [N,3,H,W] in [0,1]) and writes pool3, spatial, logits.")
public final class Parity implements Callable<Integer> {
    @Mixin
    PresetOption presetOption = new PresetOption();

    @Option(names = "--weights", required = true, description = ".safetensors or .pt: a plain state dict, or a training checkpoint (its EMA is used)")
    Path weights;

    @Option(names = "--inputs", required = true, description = "safetensors with x [N,C,H,W], t [N], y [N] "
            + "(U-ViT text models: context [N,77,768], and empty_context [77,768] for --cfg; CLIP text encoders: input_ids [N,77])")
    Path inputs;

    @Option(names = "--out", required = true, description = "output safetensors: 'out', and 'out_cfg' when --cfg is given")
    Path out;

    @Option(names = "--cfg", converter = Numbers.NonNegative.class, description = "guidance scale: also run the guided forward (first half conditional)")
    Double cfg;

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        OutputPaths.requireDistinct(spec, "--out", out, "--weights", weights);
        OutputPaths.requireDistinct(spec, "--out", out, "--inputs", inputs);
        Device dev = deviceOption.device();
        String model = presetOption.name();
        if (InceptionParity.handles(model)) return InceptionParity.run(weights, inputs, out, cfg, dev);
        if (TextEncoderParity.handles(model)) return TextEncoderParity.run(model, weights, inputs, out, dev);
        if (VaeParity.handles(model)) return VaeParity.run(model, weights, inputs, out, cfg, dev);
        if (MicroDiTParity.handles(model)) {
            new MicroDiTParity(model, weights, inputs, out, cfg).run(dev);
            return 0;
        }
        try (Safetensors.Contents in = Safetensors.read(inputs); TensorScope scope = TensorScope.open(); var g = Autograd.noGrad()) {
            try (DiffusionModel<?> net = checkedModel(in, dev)) {
                Tensor x = in.tensors().get("x").to(dev);
                Tensor t = in.tensors().get("t").to(dev);
                net.eval();
                Conditioning c = conditioning(in, net.config().numClasses(), x.size(0), dev);
                Map<String, Tensor> results = new LinkedHashMap<>();
                results.put("out", net.forward(x, t, c));
                if (cfg != null) results.put("out_cfg", authorsGuidance(net, x, t, c, in, dev));
                Safetensors.save(out, results, Map.of("model", model, "weights", weights.toString()));
            }
        }
        System.out.println("parity: wrote " + out);
        return 0;
    }

    /**
     * Checks every input tensor's shape and dtype against x and the weights, naming the tensor,
     * what was expected and what was found, and only then builds the model from the weights (a
     * 3-channel x for a 4-channel model is an input error, not a weights mismatch).
     */
    private DiffusionModel<?> checkedModel(Safetensors.Contents in, Device dev) {
        Tensor x = required(in, "x");
        if (x.dim() != 4 || x.size(2) != x.size(3)) fail("x", "[N, C, H, W] with H = W", Arrays.toString(x.shape()));
        if (!x.dtype().isFloatingPoint()) fail("x", "floating point", x.dtype().toString());
        long n = x.size(0);
        Tensor t = required(in, "t");
        if (t.dim() != 1 || t.size(0) != n) fail("t", "[N] = [" + n + "] (a timestep per x)", Arrays.toString(t.shape()));
        long[] contextWeight;
        try (WeightSource source = Weights.open(weights)) { // a .safetensors header only; a .pt is read whole, then again by load
            long[] stem = firstShape(source, "x_embedder.proj.weight", "patch_embed.proj.weight"); // [width, C, k, k] in each family
            if (stem != null && stem.length == 4 && stem[1] != x.size(1)) {
                fail("x", stem[1] + " channels, as the weights " + weights + " take (" + Arrays.toString(stem) + ")", x.size(1) + " channels");
            }
            contextWeight = firstShape(source, "context_embed.weight");
        }
        DiffusionConfig<?> config = DiffusionConfig.preset(presetOption.name()).resized((int) x.size(1), (int) x.size(2));
        checkConditioning(in, n, config.numClasses(), contextWeight);
        return config.load(weights, dev);
    }

    /** y: integer labels [N] in [0, numClasses] (numClasses itself is the null label); context: [N, T, D] with the weights' D. */
    private void checkConditioning(Safetensors.Contents in, long n, int numClasses, long[] contextWeight) {
        Tensor y = in.tensors().get("y");
        if (y != null && !in.tensors().containsKey("context")) {
            if (y.dim() != 1 || y.size(0) != n) fail("y", "[N] = [" + n + "] (a label per x)", Arrays.toString(y.shape()));
            if (y.dtype().isFloatingPoint() || y.dtype() == DType.BOOL) fail("y", "integer class labels", y.dtype().toString());
            try (TensorScope s = TensorScope.open()) {
                long min = (long) y.min().item(), max = (long) y.max().item();
                if (numClasses > 0 && (min < 0 || max > numClasses)) {
                    fail("y", "labels in [0, " + numClasses + "] (" + numClasses + ": the null label)", "[" + min + ", " + max + "]");
                }
            }
        }
        Tensor context = in.tensors().get("context");
        if (context != null) {
            long d = contextWeight != null && contextWeight.length == 2 ? contextWeight[1] : -1;
            if (context.dim() != 3 || context.size(0) != n || (d > 0 && context.size(2) != d)) {
                fail("context", "[N, T, D] = [" + n + ", T, " + (d > 0 ? d : "D") + "]", Arrays.toString(context.shape()));
            }
        }
    }

    private static long[] firstShape(WeightSource source, String... keys) {
        for (String k : keys) if (source.keys().contains(k)) return source.shape(k);
        return null;
    }

    private void fail(String tensor, String expected, String found) {
        throw new IllegalArgumentException("tensor '" + tensor + "' of " + inputs + ": expected " + expected + ", found " + found);
    }

    /** Text tokens when the inputs hold a context, class labels when they hold y, else none. */
    private Conditioning conditioning(Safetensors.Contents in, int numClasses, long batch, Device dev) {
        if (in.tensors().containsKey("context")) return Conditioning.text(required(in, "context").to(dev));
        if (in.tensors().containsKey("y")) return Conditioning.labels(required(in, "y").to(dev), Math.max(numClasses, 1));
        if (numClasses > 0) throw new IllegalArgumentException(inputs + " has no tensor 'y' (labels) for " + presetOption.name());
        return Conditioning.none(batch);
    }

    /**
     * The guided forward as the authors' forward_with_cfg, --cfg written as they write it: text on x
     * against the empty prompt's encoding; labels on [conditional; null] halves of x (the first
     * half's labels; the second half's are the null label).
     */
    private Tensor authorsGuidance(DiffusionModel<?> net, Tensor x, Tensor t, Conditioning c, Safetensors.Contents in, Device dev) {
        double scale = net.config().family().scaleFromAuthors(cfg);
        if (c instanceof Conditioning.Text text) return net.guided(Conditioning.text(text.tokens(), required(in, "empty_context").to(dev)), scale).apply(x, t);
        if (!(c instanceof Conditioning.Labels l)) throw new IllegalArgumentException(inputs + " has no tensor 'y' (labels) for " + presetOption.name());
        Conditioning half = Conditioning.labels(l.labels().narrow(0, 0, x.size(0) / 2), l.numClasses());
        return net.guided(half, scale).doubled().apply(x, t);
    }

    private Tensor required(Safetensors.Contents in, String key) {
        Tensor v = in.tensors().get(key);
        if (v == null) throw new IllegalArgumentException(inputs + " has no tensor '" + key + "'");
        return v;
    }
}
