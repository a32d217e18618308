package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.layers.Gelu;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.Mlp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModuleTest extends TestSupport {
    /** A small two-level model with PyTorch-style names. */
    static final class Net extends Module {
        final Mlp mlp;
        final LayerNorm norm;

        Net(VarBuilder vb) {
            super(vb);
            mlp = registerModule("mlp", Mlp.of(4, 8).withGelu(Gelu.TANH));
            norm = registerModule("norm", LayerNorm.of(4));
            registerBuffer("steps", Tensor.zeros(new long[] {1}, DType.INT64, Device.CPU));
        }

        static Net create() {
            try (Generator g = Generator.cpu(0)) {
                return new Net(VarBuilder.init(DType.FLOAT32, Device.CPU, g));
            }
        }
    }

    @Test
    void namesFollowPyTorch() {
        try (Net net = Net.create()) {
            assertEquals(List.of("mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias", "norm.weight", "norm.bias"),
                    List.copyOf(net.namedParameters().keySet()));
            assertTrue(net.stateDict().containsKey("steps"));
            assertEquals(4 * 8 + 8 + 8 * 4 + 4 + 4 + 4, net.parameterCount());
        }
    }

    @Test
    void stateDictRoundTripsIntoAnotherInstance() {
        try (Net a = Net.create(); Net b = Net.create()) {
            try (var g = Autograd.noGrad()) {
                a.namedParameters().values().forEach(p -> p.add_(1));
            }
            b.loadStateDict(a.stateDict());
            a.stateDict().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), b.stateDict().get(k).toFloatArray(), k));
        }
    }

    @Test
    void strictLoadReportsEveryProblemAtOnce() {
        try (Net net = Net.create()) {
            Map<String, Tensor> state = new LinkedHashMap<>(net.stateDict());
            state.remove("norm.bias");
            state.put("head.weight", Tensor.zeros(2));
            state.put("mlp.fc1.weight", Tensor.zeros(3, 3));
            StateDictMismatch e = assertThrows(StateDictMismatch.class, () -> net.loadStateDict(state));
            assertEquals(List.of("norm.bias"), e.missing());
            assertEquals(List.of("head.weight"), e.unexpected());
            assertEquals(1, e.misshaped().size());
            assertTrue(e.getMessage().contains("mlp.fc1.weight: checkpoint [3, 3], model [8, 4]"), e.getMessage());
            // non-strict still refuses shape mismatches, as PyTorch does
            assertThrows(StateDictMismatch.class, () -> net.loadStateDict(state, false, k -> k));
        }
    }

    @Test
    void renameHookMapsForeignNames() {
        try (Net a = Net.create(); Net b = Net.create()) {
            Map<String, Tensor> prefixed = new LinkedHashMap<>();
            a.stateDict().forEach((k, v) -> prefixed.put("module." + k, v));
            b.loadStateDict(prefixed, true, k -> k.substring("module.".length()));
            assertArrayEquals(a.stateDict().get("mlp.fc1.weight").toFloatArray(), b.stateDict().get("mlp.fc1.weight").toFloatArray());
        }
    }

    @Test
    void linearMatchesFunctionalAndTrainsEveryParameter() {
        try (Generator g = Generator.cpu(1); Linear lin = new Linear(VarBuilder.init(DType.FLOAT64, Device.CPU, g), Linear.of(3, 2))) {
            Tensor x = seeded(5, 4, 3);
            assertClose(Functional.linear(x, lin.weight(), lin.bias()), lin.forward(x), 0);
            lin.forward(x).sum().backward();
            assertNotNull(lin.weight().grad());
            lin.zeroGrad();
            assertNull(lin.weight().grad());
            double bound = 1 / Math.sqrt(3);
            assertTrue(lin.weight().abs().max().item() <= bound, "PyTorch's default init bound");
        }
    }
}
