package dev.dit4j.examples;

import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.Presets;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Runs a model forward on inputs from a safetensors file and writes the outputs, so that dit4j
 * can be compared with a reference implementation on identical weights and inputs.
 */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = "Forward a model (DiT, U-ViT, U-DiT preset) on inputs (x, t, y or context) from a safetensors file; "
                + "write outputs to safetensors.")
public final class Parity implements Callable<Integer> {
    @Mixin
    PresetOption presetOption = new PresetOption();

    @Option(names = "--weights", required = true, description = ".safetensors or .pt: a plain state dict, or a training checkpoint (its EMA is used)")
    Path weights;

    @Option(names = "--inputs", required = true, description = "safetensors with x [N,C,H,W], t [N], y [N] "
            + "(U-ViT text models: context [N,77,768], and empty_context [77,768] for --cfg)")
    Path inputs;

    @Option(names = "--out", required = true, description = "output safetensors: 'out', and 'out_cfg' when --cfg is given")
    Path out;

    @Option(names = "--cfg", description = "guidance scale: also run the guided forward (first half conditional)")
    Double cfg;

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Override
    public Integer call() {
        Device dev = deviceOption.device();
        String model = presetOption.name();
        try (Safetensors.Contents in = Safetensors.read(inputs); TensorScope scope = TensorScope.open(); var g = Autograd.noGrad()) {
            Tensor x = required(in, "x").to(dev);
            Tensor t = required(in, "t").to(dev);
            try (DiffusionModel<?> net = Presets.config(model, (int) x.size(1), (int) x.size(2)).load(weights, dev)) {
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

    /** Text tokens when the inputs hold a context, class labels when they hold y, else none. */
    private Conditioning conditioning(Safetensors.Contents in, int numClasses, long batch, Device dev) {
        if (in.tensors().containsKey("context")) return Conditioning.text(required(in, "context").to(dev));
        if (in.tensors().containsKey("y")) return Conditioning.labels(required(in, "y").to(dev), Math.max(numClasses, 1));
        if (numClasses > 0) throw new IllegalArgumentException(inputs + " has no tensor 'y' (labels) for " + presetOption.name());
        return Conditioning.none(batch);
    }

    /** The guided forward exactly as each model's authors write it (DiT's forward_with_cfg on [conditional; null] halves, U-ViT's eps_c + s (eps_c - eps_u)). */
    private Tensor authorsGuidance(DiffusionModel<?> net, Tensor x, Tensor t, Conditioning c, Safetensors.Contents in, Device dev) {
        return switch (net) {
            case DiT d -> d.forwardWithCfg(x, t, labels(c), cfg);
            case UDiT u -> u.forwardWithCfg(x, t, labels(c), cfg);
            case UViT u when c instanceof Conditioning.Text text ->
                    u.forwardTextWithCfg(x, t, text.tokens(), required(in, "empty_context").to(dev), cfg);
            case UViT u -> u.forwardWithCfg(x, t, c instanceof Conditioning.Labels l ? l.labels() : null, cfg);
            default -> throw new IllegalArgumentException("no guided form for " + net.describe());
        };
    }

    private Tensor labels(Conditioning c) {
        if (c instanceof Conditioning.Labels l) return l.labels();
        throw new IllegalArgumentException(inputs + " has no tensor 'y' (labels) for " + presetOption.name());
    }

    private Tensor required(Safetensors.Contents in, String key) {
        Tensor v = in.tensors().get(key);
        if (v == null) throw new IllegalArgumentException(inputs + " has no tensor '" + key + "'");
        return v;
    }
}
