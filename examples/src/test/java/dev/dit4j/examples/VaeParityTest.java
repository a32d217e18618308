package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiT;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class VaeParityTest {
    private static final AutoencoderKL.Config SMALL = AutoencoderKL.SD.withChannels(32).withChannelMult(List.of(1, 2, 2, 2)).withNumResBlocks(1);

    @TempDir
    Path dir;

    private Path weights() {
        Path w = dir.resolve("vae.safetensors");
        try (AutoencoderKL vae = SMALL.create(Device.CPU, 3)) {
            Safetensors.save(w, vae.stateDict());
        }
        return w;
    }

    private Parity parity(Path weights, Map<String, Tensor> inputs) {
        Safetensors.save(dir.resolve("in.safetensors"), inputs);
        Parity p = new Parity();
        new CommandLine(p).parseArgs("--model", "sd-vae", "--weights", weights.toString(), "--inputs", dir.resolve("in.safetensors").toString(),
                "--out", dir.resolve("out.safetensors").toString());
        return p;
    }

    @Test
    void encodesXToMomentsAndDecodesScaledZ() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(1)) {
            Path w = weights();
            Tensor x = Tensor.rand(new long[] {2, 3, 32, 32}, DType.FLOAT32, Device.CPU, g).mul(2).sub(1);
            Tensor z = Tensor.randn(new long[] {2, 4, 4, 4}, DType.FLOAT32, Device.CPU, g);
            assertEquals(0, parity(w, Map.of("x", x, "z", z)).call());
            try (Safetensors.Contents out = Safetensors.read(dir.resolve("out.safetensors")); AutoencoderKL vae = SMALL.load(w, Device.CPU)) {
                assertTrue(out.tensors().get("moments").allclose(vae.encodeMoments(x), 0, 0));
                assertTrue(out.tensors().get("decoded").allclose(vae.decode(z.div(0.18215)), 0, 0));
            }
            assertEquals(0, parity(w, Map.of("z", z)).call());
            try (Safetensors.Contents out = Safetensors.read(dir.resolve("out.safetensors"))) {
                assertEquals(List.of("decoded"), List.copyOf(out.tensors().keySet()), "only what the inputs ask for");
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void badInputsAndWeightsAreNamed() {
        try (TensorScope s = TensorScope.open()) {
            Path w = weights();
            var e = assertThrows(IllegalArgumentException.class, () -> parity(w, Map.of("x", Tensor.zeros(1, 3, 36, 36))).call());
            assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("divisible by 8"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> parity(w, Map.of("z", Tensor.zeros(1, 16, 4, 4))).call());
            assertTrue(e.getMessage().contains("'z'") && e.getMessage().contains("[N, 4, h, w]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> parity(w, Map.of("y", Tensor.zeros(1))).call());
            assertTrue(e.getMessage().contains("neither 'x'"), e.getMessage());
            Path dit = dir.resolve("dit.safetensors");
            try (DiT model = DiT.PRESETS.get("DiT-S/8").withInputSize(16).create(Device.CPU, 1)) {
                Safetensors.save(dit, model.stateDict());
            }
            RuntimeException r = assertThrows(RuntimeException.class, () -> parity(dit, Map.of("z", Tensor.zeros(1, 4, 4, 4))).call());
            assertTrue(r.getMessage().contains("holds no AutoencoderKL"), r.getMessage());
        }
    }
}
