package dev.dit4j.models.embed;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.udit.UDiTBlock;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The one-op modulation against the authors' form x * (1 + scale) + shift in float32: outputs and
 * every input's gradient agree to 1e-6 relative L2, for tokens [N, L, D] (MicroDiT) and feature
 * maps [N, C, H, W] (U-DiT).
 */
class AdaLnZeroTest {
    @Test
    void modulationEqualsTheAuthorsForm() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Tensor x = random(1, 2, 6, 8), shift = random(2, 2, 8), scale = random(3, 2, 8);
            assertSameWithGradients(in -> AdaLnZero.modulateTokens(in.get(0), in.get(1), in.get(2)),
                    in -> in.get(0).mul(in.get(2).unsqueeze(1).add(1)).add(in.get(1).unsqueeze(1)), x, shift, scale);
            Tensor map = random(6, 2, 8, 3, 5);
            assertSameWithGradients(in -> UDiTBlock.modulate(in.get(0), in.get(1), in.get(2)),
                    in -> in.get(0).mul(spatial(in.get(2)).add(1)).add(spatial(in.get(1))), map, shift, scale);
        }
        assertEquals(live, Torch.liveTensors(), "native tensors leaked");
    }

    private static Tensor spatial(Tensor v) {
        return v.unsqueeze(-1).unsqueeze(-1);
    }

    private static Tensor random(long seed, long... shape) {
        try (Generator g = Generator.cpu(seed)) {
            return Tensor.randn(shape, DType.FLOAT32, Device.CPU, g);
        }
    }

    private static void assertSameWithGradients(Function<List<Tensor>, Tensor> fused, Function<List<Tensor>, Tensor> authors, Tensor... inputs) {
        List<Tensor> fusedGrads = new ArrayList<>(), authorsGrads = new ArrayList<>();
        Tensor a = outputAndGradients(fused, inputs, fusedGrads);
        Tensor b = outputAndGradients(authors, inputs, authorsGrads);
        assertRelativeL2(b, a, "output");
        for (int i = 0; i < inputs.length; i++) assertRelativeL2(authorsGrads.get(i), fusedGrads.get(i), "gradient of input " + i);
    }

    /** f's output and the gradients of a fixed random projection of it with respect to each input. */
    private static Tensor outputAndGradients(Function<List<Tensor>, Tensor> f, Tensor[] inputs, List<Tensor> grads) {
        List<Tensor> leaves = new ArrayList<>();
        for (Tensor t : inputs) leaves.add(t.detach().requiresGrad(true));
        Tensor out = f.apply(leaves);
        grads.addAll(Autograd.grad(List.of(out.mul(random(99, out.shape())).sum()), leaves, null, false, false));
        return out.detach();
    }

    private static void assertRelativeL2(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double error = actual.to(DType.FLOAT64).sub(expected.to(DType.FLOAT64)).norm(2, null, false).item();
        double scale = expected.to(DType.FLOAT64).norm(2, null, false).item();
        assertTrue(error <= 1e-6 * scale, what + ": relative L2 error " + error / scale);
    }
}
