package dev.dit4j.examples;

import dev.dit4j.models.DiT;
import dev.dit4j.models.Weights;
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
import picocli.CommandLine.Option;

/**
 * Runs a model forward on inputs from a safetensors file and writes the outputs, so that dit4j
 * can be compared with a reference implementation on identical weights and inputs.
 */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = "Forward a model on inputs (x, t, y) from a safetensors file; write outputs to safetensors.")
public final class Parity implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "preset, e.g. DiT-XL/2")
    String model;

    @Option(names = "--weights", required = true, description = ".safetensors or .pt: a plain state dict, or a training checkpoint (its EMA is used)")
    Path weights;

    @Option(names = "--inputs", required = true, description = "safetensors with x [N,C,H,W], t [N], y [N]")
    Path inputs;

    @Option(names = "--out", required = true, description = "output safetensors: 'out', and 'out_cfg' when --cfg is given")
    Path out;

    @Option(names = "--cfg", description = "guidance scale: also run the guided forward (first half conditional)")
    Double cfg;

    @Option(names = "--device", description = "cpu or cuda:N (default ${DEFAULT-VALUE})")
    String device = "cpu";

    @Override
    public Integer call() {
        Device dev = Device.parse(device);
        try (Safetensors.Contents in = Safetensors.read(inputs); TensorScope scope = TensorScope.open(); var g = Autograd.noGrad()) {
            Tensor x = required(in, "x").to(dev);
            Tensor t = required(in, "t").to(dev);
            Tensor y = required(in, "y").to(dev);
            DiT.Config cfgModel = DiT.preset(model).withInputSize((int) x.size(2)).withInChannels((int) x.size(1));
            try (DiT net = DiT.create(cfgModel, dev, 0)) {
                Weights.load(net, weights);
                net.eval();
                Map<String, Tensor> results = new LinkedHashMap<>();
                results.put("out", net.forward(x, t, y));
                if (cfg != null) results.put("out_cfg", net.forwardWithCfg(x, t, y, cfg));
                Safetensors.save(out, results, Map.of("model", model, "weights", weights.toString()));
            }
        }
        System.out.println("parity: wrote " + out);
        return 0;
    }

    private Tensor required(Safetensors.Contents in, String key) {
        Tensor v = in.tensors().get(key);
        if (v == null) throw new IllegalArgumentException(inputs + " has no tensor '" + key + "' (needs x, t, y)");
        return v;
    }
}
