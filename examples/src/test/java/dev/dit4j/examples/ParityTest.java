package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@SuppressWarnings("unchecked")
class ParityTest {
    @TempDir
    Path dir;

    @Test
    void writesTheModelsOutputsForGivenWeightsAndInputs() {
        long live = Torch.liveTensors();
        DiT.Config cfg = DiT.PRESETS.get("DiT-S/8").withInputSize(16);
        try (TensorScope s = TensorScope.open(); DiT model = cfg.create(Device.CPU, 11); Generator g = Generator.cpu(3)) {
            Safetensors.save(dir.resolve("w.safetensors"), model.stateDict());
            Tensor x = Tensor.randn(new long[] {4, 4, 16, 16}, dev.dit4j.nn.DType.FLOAT32, Device.CPU, g);
            Tensor t = Tensor.of(new long[] {1, 500, 999, 0}, 4);
            Tensor y = Tensor.of(new long[] {3, 7, 1000, 1000}, 4);
            Safetensors.save(dir.resolve("in.safetensors"), Map.of("x", x, "t", t, "y", y));
            int code = new CommandLine(new Parity()).execute("--model", "DiT-S/8", "--weights", dir.resolve("w.safetensors").toString(),
                    "--inputs", dir.resolve("in.safetensors").toString(), "--out", dir.resolve("out.safetensors").toString(), "--cfg", "4");
            assertEquals(0, code);
            model.eval();
            try (Safetensors.Contents out = Safetensors.read(dir.resolve("out.safetensors"))) {
                assertTrue(out.tensors().get("out").allclose(model.forward(x, t, y), 0, 0));
                Conditioning labels = Conditioning.labels(y.narrow(0, 0, 2), 1000);
                assertTrue(out.tensors().get("out_cfg").allclose(model.guided(labels, 4).doubled().apply(x, t), 0, 0));
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void missingInputsAreNamed() {
        try (TensorScope s = TensorScope.open(); DiT model = DiT.PRESETS.get("DiT-S/8").withInputSize(16).create(Device.CPU, 1)) {
            Safetensors.save(dir.resolve("w.safetensors"), model.stateDict());
            Safetensors.save(dir.resolve("in.safetensors"), Map.of("x", Tensor.zeros(1, 4, 16, 16)));
            Parity p = new Parity();
            new CommandLine(p).parseArgs("--model", "DiT-S/8", "--weights", dir.resolve("w.safetensors").toString(), "--inputs",
                    dir.resolve("in.safetensors").toString(), "--out", dir.resolve("o.safetensors").toString());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::call);
            assertTrue(e.getMessage().contains("'t'"), e.getMessage());
        }
    }

    @Test
    void microDiTInputsAreCheckedAgainstTheWeightsFirst() {
        try (TensorScope s = TensorScope.open()) {
            // only the two tensors the check reads: the inputs are refused before any model is built
            Safetensors.save(dir.resolve("w.safetensors"), Map.of("y_embedder.y_proj.fc1.weight", Tensor.zeros(512, 1024),
                    "x_embedder.proj.weight", Tensor.zeros(512, 4, 2, 2)));
            Tensor x = Tensor.zeros(2, 4, 32, 32), t = Tensor.zeros(2);
            String[] problems = {"y", "mask_noise", "mask_ratio"};
            Map<String, Tensor>[] inputs = new Map[] {Map.of("x", x, "t", t, "y", Tensor.zeros(2, 1, 77, 768)),
                    Map.of("x", x, "t", t, "y", Tensor.zeros(2, 1, 77, 1024), "mask_noise", Tensor.zeros(2, 100), "mask_ratio", Tensor.scalar(0.75)),
                    Map.of("x", x, "t", t, "y", Tensor.zeros(2, 1, 77, 1024), "mask_noise", Tensor.zeros(2, 256), "mask_ratio", Tensor.scalar(1.0))};
            for (int i = 0; i < problems.length; i++) {
                Safetensors.save(dir.resolve("in.safetensors"), inputs[i]);
                Parity p = new Parity();
                new CommandLine(p).parseArgs("--model", "MicroDiT_Tiny_2", "--weights", dir.resolve("w.safetensors").toString(), "--inputs",
                        dir.resolve("in.safetensors").toString(), "--out", dir.resolve("o.safetensors").toString());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::call);
                assertTrue(e.getMessage().contains("'" + problems[i] + "'"), e.getMessage());
            }
        }
    }

    @Test
    void runsUDiTAndUnconditionalUViTByPresetName() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(5)) {
            for (String name : java.util.List.of("U-DiT-S", "cifar10_uvit_small")) {
                boolean udit = name.startsWith("U-DiT");
                int channels = udit ? 4 : 3, size = udit ? 16 : 32;
                try (dev.dit4j.models.DiffusionModel<?> model = dev.dit4j.models.DiffusionConfig.preset(name).resized(channels, size).create(Device.CPU, 0)) {
                    Safetensors.save(dir.resolve("w.safetensors"), model.stateDict());
                    Tensor x = Tensor.randn(new long[] {2, channels, size, size}, dev.dit4j.nn.DType.FLOAT32, Device.CPU, g);
                    Tensor t = Tensor.of(new float[] {10, 900}, 2);
                    Map<String, Tensor> inputs = new java.util.HashMap<>(Map.of("x", x, "t", t));
                    if (udit) inputs.put("y", Tensor.of(new long[] {3, 1000}, 2));
                    Safetensors.save(dir.resolve("in.safetensors"), inputs);
                    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--model", name, "--weights",
                            dir.resolve("w.safetensors").toString(), "--inputs", dir.resolve("in.safetensors").toString(),
                            "--out", dir.resolve("out.safetensors").toString()));
                    if (udit) args.addAll(java.util.List.of("--cfg", "1.5"));
                    assertEquals(0, new CommandLine(new Parity()).execute(args.toArray(String[]::new)), name);
                    model.eval();
                    try (Safetensors.Contents out = Safetensors.read(dir.resolve("out.safetensors"))) {
                        if (model instanceof dev.dit4j.models.UDiT net) {
                            assertTrue(out.tensors().get("out").allclose(net.forward(x, t, inputs.get("y")), 0, 0), name);
                            Conditioning labels = Conditioning.labels(inputs.get("y").narrow(0, 0, 1), 1000);
                            assertTrue(out.tensors().get("out_cfg").allclose(net.guided(labels, 1.5).doubled().apply(x, t), 0, 0));
                        } else {
                            assertTrue(out.tensors().get("out").allclose(((dev.dit4j.models.UViT) model).forward(x, t, (Tensor) null), 0, 0), name);
                        }
                    }
                }
            }
        }
        assertEquals(live, Torch.liveTensors());
    }
}
