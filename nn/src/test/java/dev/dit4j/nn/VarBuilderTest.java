package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.GroupNorm;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.SelfAttention;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VarBuilderTest extends TestSupport {
    /** Two levels, a dotted container name and a frozen table, as the diffusion models use them. */
    static final class Net extends Module {
        final SelfAttention attn;
        final Linear gate;
        final Conv2d conv;

        Net(VarBuilder vb) {
            super(vb);
            registerFrozenParameter("table", new long[] {1, 3}, (t, g) -> t.copy_(Tensor.of(new float[] {1, 2, 3}, 1, 3)));
            attn = registerModule("attn", SelfAttention.of(8, 2).withQkvBias(true).withLinears(Linear.Options::xavier));
            gate = registerModule("modulation.1", Linear.of(8, 16).zero());
            conv = registerModule("conv", Conv2d.of(4, 8, 3).samePadding().withGroups(2).withBias(false));
        }

        static Net init(long seed) {
            try (Generator g = Generator.cpu(seed)) {
                return new Net(VarBuilder.init(DType.FLOAT32, Device.CPU, g));
            }
        }
    }

    @Test
    void pathsNameTheStateDictAsPyTorchDoes() {
        try (Net net = Net.init(0)) {
            assertEquals(List.of("table", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
                    "modulation.1.weight", "modulation.1.bias", "conv.weight"), List.copyOf(net.stateDict().keySet()));
            assertFalse(net.stateDict().get("table").requiresGrad(), "a frozen parameter is not trained");
            assertTrue(net.attn.namedParameters().get("qkv.weight").requiresGrad());
            assertArrayEquals(new long[] {8, 2, 3, 3}, net.conv.weight().shape(), "grouped conv weight");
            assertEquals(0.0, net.gate.weight().abs().max().item(), "zero()");
            assertEquals(0.0, net.attn.namedParameters().get("qkv.bias").abs().max().item(), "xavier() zeroes the bias");
            double xavier = Math.sqrt(6.0 / (8 + 24));
            assertTrue(net.attn.namedParameters().get("qkv.weight").abs().max().item() <= xavier);
        }
    }

    @Test
    void buildingFromAFileTakesItsTensorsWithoutInitialising(@TempDir Path dir) {
        Path file = dir.resolve("net.safetensors");
        try (Net saved = Net.init(1)) {
            Safetensors.save(file, saved.stateDict());
            try (WeightSource src = Safetensors.index(file)) {
                VarBuilder vb = VarBuilder.load(src, DType.FLOAT64, Device.CPU);
                try (Net loaded = new Net(vb)) {
                    vb.finish();
                    assertEquals(DType.FLOAT64, loaded.gate.weight().dtype(), "converted to the builder's dtype");
                    saved.stateDict().forEach((k, v) -> assertArrayEquals(v.toDoubleArray(), loaded.stateDict().get(k).toDoubleArray(), 0, k));
                    assertTrue(loaded.attn.namedParameters().get("proj.weight").requiresGrad(), "loaded parameters train");
                    Tensor x = seeded(3, 2, 5, 8);
                    assertClose(saved.attn.forward(x.to(DType.FLOAT32)).to(DType.FLOAT64), loaded.attn.forward(x), 1e-6);
                }
            }
        }
    }

    @Test
    void everyMismatchOfASourceIsReportedAtOnce() {
        Map<String, Tensor> state = new LinkedHashMap<>();
        try (Net net = Net.init(2)) {
            net.stateDict().forEach((k, v) -> state.put(k, TensorScope.release(v.clone())));
        }
        state.remove("conv.weight").close();
        state.put("extra.bias", TensorScope.release(Tensor.zeros(3)));
        state.put("modulation.1.bias", TensorScope.release(Tensor.zeros(4))).close();
        try (WeightSource src = WeightSource.owning(state, "test dict")) {
            VarBuilder vb = VarBuilder.load(src, DType.FLOAT32, Device.CPU);
            try (Net net = new Net(vb)) {
                StateDictMismatch e = assertThrows(StateDictMismatch.class, vb::finish);
                assertEquals(List.of("conv.weight"), e.missing());
                assertEquals(List.of("extra.bias"), e.unexpected());
                assertEquals(List.of("modulation.1.bias: checkpoint [4], model [16]"), e.misshaped());
                assertTrue(e.getMessage().startsWith("test dict does not match the model"), e.getMessage());
            }
        }
    }

    @Test
    void ownedTensorsOfTheRightTypeAreHandedOverNotCopied() {
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("w", TensorScope.release(Tensor.of(new float[] {1, 2}, 2)));
        try (WeightSource src = WeightSource.owning(state, "dict");
             Tensor w = src.take("w", DType.FLOAT32, Device.CPU)) {
            w.asSegment().set(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 7f);
            assertArrayEquals(new float[] {7, 2}, w.toFloatArray());
            assertThrows(IllegalStateException.class, () -> src.take("w", DType.FLOAT32, Device.CPU), "taken once");
        }
    }

    @Test
    void groupNormMatchesLibtorch() {
        try (Generator g = Generator.cpu(0);
             GroupNorm norm = new GroupNorm(VarBuilder.init(DType.FLOAT64, Device.CPU, g), GroupNorm.of(2, 4).withEps(1e-6))) {
            Tensor x = seeded(4, 3, 4, 5, 5);
            assertClose(Functional.groupNorm(x, 2, null, null, 1e-6), norm.forward(x), 1e-12);
            assertThrows(IllegalArgumentException.class, () -> GroupNorm.of(3, 4));
        }
    }
}
