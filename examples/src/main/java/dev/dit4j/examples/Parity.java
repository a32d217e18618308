package dev.dit4j.examples;

import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.PresetOption;
import dev.dit4j.models.ClassConditionalModel;
import dev.dit4j.models.Presets;
import dev.dit4j.models.UViT;
import dev.dit4j.models.Weights;
import dev.dit4j.nn.Module;
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
            try (Module net = Presets.create(model, (int) x.size(1), (int) x.size(2), dev)) {
                Weights.load(net, weights);
                net.eval();
                Map<String, Tensor> results = new LinkedHashMap<>();
                if (net instanceof UViT u && u.config().textConditional()) {
                    Tensor context = required(in, "context").to(dev);
                    results.put("out", u.forwardText(x, t, context));
                    if (cfg != null) results.put("out_cfg", u.forwardTextWithCfg(x, t, context, required(in, "empty_context").to(dev), cfg));
                } else {
                    ClassConditionalModel m = (ClassConditionalModel) net;
                    Tensor y = in.tensors().containsKey("y") ? in.tensors().get("y").to(dev) : null;
                    if (y == null && m.numClasses() > 0) throw new IllegalArgumentException(inputs + " has no tensor 'y' (labels) for " + model);
                    results.put("out", m.forward(x, t, y));
                    if (cfg != null) results.put("out_cfg", m.forwardWithCfg(x, t, y, cfg));
                }
                Safetensors.save(out, results, Map.of("model", model, "weights", weights.toString()));
            }
        }
        System.out.println("parity: wrote " + out);
        return 0;
    }

    private Tensor required(Safetensors.Contents in, String key) {
        Tensor v = in.tensors().get(key);
        if (v == null) throw new IllegalArgumentException(inputs + " has no tensor '" + key + "'");
        return v;
    }
}
