package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.eval.InceptionV3;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class InceptionParityTest {
    @TempDir
    Path dir;

    /** Random Inception weights (running variances positive) as a .pth in torchvision's layout. */
    static Path randomWeights(Path dir) {
        Path w = dir.resolve("inception.pth");
        try (TensorScope s = TensorScope.open(); InceptionV3 net = InceptionV3.create(Device.CPU); Generator g = Generator.cpu(5)) {
            net.stateDict().forEach((k, v) -> {
                Tensor r = Tensor.randn(v.shape(), DType.FLOAT32, Device.CPU, g);
                v.copy_(k.endsWith("running_var") || k.endsWith("bn.weight") ? r.mul(0.1).add(1)
                        : k.endsWith("conv.weight") ? r.mul(Math.sqrt(2.0 / (v.size(1) * v.size(2) * v.size(3)))) : r.mul(0.05));
            });
            TorchCheckpoint.write(w, net.stateDict());
        }
        return w;
    }

    private int parity(Path weights, Map<String, Tensor> inputs) {
        Safetensors.save(dir.resolve("in.safetensors"), inputs);
        Parity p = new Parity();
        new CommandLine(p).parseArgs("--model", "inception-v3-fid", "--weights", weights.toString(), "--inputs",
                dir.resolve("in.safetensors").toString(), "--out", dir.resolve("out.safetensors").toString());
        return p.call();
    }

    @Test
    void writesPool3SpatialAndLogitsFromBytesOrFloats() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(1)) {
            Path w = randomWeights(dir);
            Tensor bytes = Tensor.randint(0, 256, new long[] {2, 40, 40, 3}, Device.CPU, g).to(DType.UINT8);
            Tensor floats = bytes.permute(0, 3, 1, 2).to(DType.FLOAT32).div(255.0);
            try (InceptionV3 net = InceptionV3.load(w, Device.CPU)) {
                InceptionV3.Features expected = net.features(bytes);
                for (Tensor x : List.of(bytes, floats)) {
                    assertEquals(0, parity(w, Map.of("x", x)));
                    try (Safetensors.Contents out = Safetensors.read(dir.resolve("out.safetensors"))) {
                        assertEquals(List.of(2L, 2048L), List.of(out.tensors().get("pool3").size(0), out.tensors().get("pool3").size(1)));
                        assertEquals(7 * 17 * 17, out.tensors().get("spatial").size(1));
                        assertEquals(1008, out.tensors().get("logits").size(1));
                        assertTrue(out.tensors().get("pool3").allclose(expected.pool3(), 1e-5, 1e-6));
                        assertTrue(out.tensors().get("spatial").allclose(expected.spatial(), 1e-5, 1e-6));
                        assertTrue(out.tensors().get("logits").allclose(expected.logits(), 1e-5, 1e-6));
                    }
                }
            }
            var e = assertThrows(IllegalArgumentException.class, () -> parity(w, Map.of("x", Tensor.zeros(2, 3, 8))));
            assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("[2, 3, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> parity(w, Map.of("y", Tensor.zeros(2))));
            assertTrue(e.getMessage().contains("no tensor 'x'"), e.getMessage());
        }
        assertEquals(live, Torch.liveTensors());
    }
}
