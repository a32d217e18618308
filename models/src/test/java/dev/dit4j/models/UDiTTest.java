package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.List;
import org.junit.jupiter.api.Test;

/** U-DiT configuration, parameter counts, initialisation, the FFN merge and input checks. */
class UDiTTest {
    /** A small model: width 32, 2 heads (head widths 16, 32, 64), one block per stage. */
    private static final UDiT.Config SMALL = UDiT.S.withBaseWidth(32, 2).withDepths(1, 1, 1, 1, 1);

    @Test
    void presetParameterCountsEqualTheAuthorsModels() {
        // Counted by instantiating udit_models.U_DiT_S/B/L (training form) and, for the merged
        // form, replacing each FFN's parameters by the merged convs' (58.90M training form, 52.05M merged, for U-DiT-S).
        assertEquals(58_896_568L, UDiT.S.parameterCount());
        assertEquals(231_251_304L, UDiT.B.parameterCount());
        assertEquals(916_335_304L, UDiT.L.parameterCount());
        assertEquals(52_045_240L, UDiT.S.mergedParameterCount());
        assertEquals(204_425_064L, UDiT.B.mergedParameterCount());
        assertEquals(810_188_488L, UDiT.L.mergedParameterCount());
        assertSame(UDiT.B, UDiT.PRESETS.get("U-DiT-B"));
        assertSame(UDiT.L, UDiT.PRESETS.get("l"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UDiT.PRESETS.get("U-DiT-XL"));
        assertTrue(e.getMessage().contains("U-DiT-S"), e.getMessage());
    }

    @Test
    void instantiatedModelsHaveTheCountedParameters() {
        long live = Torch.liveTensors();
        try (UDiT s = UDiT.S.create(Device.CPU, 0)) {
            assertEquals(UDiT.S.parameterCount(), s.parameterCount());
            assertEquals(2 * 22, s.blocks().size() * 2, "22 blocks of two attention + FFN pairs");
        }
        UDiT.Config fashion = SMALL.withInChannels(1).withNumClasses(10).withClassDropout(0);
        try (UDiT m = fashion.create(Device.CPU, 0)) {
            assertEquals(fashion.parameterCount(), m.parameterCount());
            assertArrayEquals(new long[] {10, 32}, m.stateDict().get("y_embedder_1.embedding_table.weight").shape(),
                    "no null row without label dropout");
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void initialisationFollowsTheAuthors() {
        long live = Torch.liveTensors();
        try (UDiT m = SMALL.create(Device.CPU, 1); TensorScope s = TensorScope.open()) {
            var sd = m.stateDict();
            assertEquals(Math.log(10), sd.get("encoder_level_1.0.attn2.logit_scale").mean().item(), 1e-6);
            for (String zero : List.of("encoder_level_1.0.adaLN_modulation1.1.weight", "latent.0.adaLN_modulation2.1.bias",
                    "final_layer.out_proj.weight", "final_layer.adaLN_modulation.1.weight", "encoder_level_1.0.attn1.to_qkv.bias")) {
                assertEquals(0.0, sd.get(zero).abs().max().item(), zero);
            }
            // xavier_uniform on the stem's flattened view: bound sqrt(6 / (4*9 + 32)).
            assertTrue(sd.get("x_embedder.proj.weight").abs().max().item() <= Math.sqrt(6.0 / (36 + 32)));
            assertEquals(0.02, stdOf(sd.get("y_embedder_2.embedding_table.weight")), 0.002);
            assertEquals(0.02, stdOf(sd.get("t_embedder_3.mlp.0.weight")), 0.002);
            m.eval();
            Tensor out = m.forward(Tensor.randn(2, 4, 16, 16), Tensor.of(new long[] {1, 500}, 2), Tensor.of(new long[] {3, 1000}, 2));
            assertArrayEquals(new long[] {2, 8, 16, 16}, out.shape());
            assertEquals(0.0, out.abs().max().item(), "zero-initialised final layer");
        }
        assertEquals(live, Torch.liveTensors());
    }

    private static double stdOf(Tensor t) {
        return t.to(DType.FLOAT64).var(new long[] {0, 1}, 1, false).sqrt().item();
    }

    @Test
    void reparameterizedModelMatchesTheTrainingFormAndCanBeRepeated() {
        long live = Torch.liveTensors();
        try (UDiT m = randomModel(SMALL, 5); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.randn(2, 4, 16, 16);
            Tensor t = Tensor.of(new long[] {10, 900}, 2);
            Tensor y = Tensor.of(new long[] {7, 1000}, 2);
            Tensor kernel = m.stateDict().get("latent.0.mlp1.dwconv.0.weight").clone();
            m.eval();
            Tensor trainForm = m.forward(x, t, y);
            Tensor merged = m.reparameterize().forward(x, t, y);
            assertTrue(m.isReparameterized());
            Tensor again = m.reparameterize().forward(x, t, y);
            double err = Fixtures.relativeL2(merged, trainForm);
            assertTrue(err < 1e-5, "merged vs training form: rel L2 " + err);
            assertTrue(again.allclose(merged, 0, 0), "a second re-parameterisation gives the same output");
            assertTrue(m.stateDict().get("latent.0.mlp1.dwconv.0.weight").allclose(kernel, 0, 0), "the parameters keep the training form");
            assertEquals(SMALL.mergedParameterCount(), SMALL.parameterCount()
                    - m.blocks().stream().mapToLong(b -> ffnParams(b.ffn(0)) + ffnParams(b.ffn(1))).sum()
                    + m.blocks().stream().mapToLong(b -> b.ffn(0).merged().parameterCount() + b.ffn(1).merged().parameterCount()).sum());
            m.train(true);
            assertFalse(m.isReparameterized(), "training drops the merged weights");
            m.reparameterize();
            m.loadStateDict(m.stateDict());
            assertFalse(m.isReparameterized(), "loading weights drops the merged weights");
        }
        assertEquals(live, Torch.liveTensors());
    }

    private static long ffnParams(dev.dit4j.nn.Module ffn) {
        return ffn.parameterCount();
    }

    @Test
    void fashionMnistSizedModelTrainsAStep() {
        long live = Torch.liveTensors();
        UDiT.Config cfg = SMALL.withInChannels(1).withNumClasses(10);
        try (UDiT m = randomModel(cfg, 3); TensorScope s = TensorScope.open()) {
            m.train(true);
            Tensor out = m.forward(Tensor.randn(3, 1, 16, 16), Tensor.of(new long[] {0, 1, 999}, 3), Tensor.of(new long[] {0, 9, 10}, 3));
            assertArrayEquals(new long[] {3, 2, 16, 16}, out.shape());
            out.square().mean().backward();
            for (var e : m.namedParameters().entrySet()) assertNotNull(e.getValue().grad(), "no gradient for " + e.getKey());
            m.zeroGrad();
            m.eval();
            Tensor x = Tensor.randn(4, 1, 8, 8);
            Tensor ts = Tensor.of(new long[] {5, 5, 5, 5}, 4);
            Tensor ys = Tensor.of(new long[] {1, 2, 10, 10}, 4);
            Tensor guided = m.guided(Conditioning.labels(ys.narrow(0, 0, 2), 10), 2.0).doubled().apply(x, ts);
            assertArrayEquals(new long[] {4, 2, 8, 8}, guided.shape());
            // As the authors' forward_with_cfg: the guided epsilon in both halves, the variance each half's own
            assertTrue(guided.narrow(0, 0, 2).narrow(1, 0, 1).allclose(guided.narrow(0, 2, 2).narrow(1, 0, 1), 0, 0));
            Tensor both = m.forward(Tensor.cat(java.util.List.of(x.narrow(0, 0, 2), x.narrow(0, 0, 2)), 0), ts, ys);
            assertTrue(guided.narrow(1, 1, 1).allclose(both.narrow(1, 1, 1), 0, 0));
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void badInputsAreRejectedWithTheReason() {
        long live = Torch.liveTensors();
        try (UDiT m = SMALL.withNumClasses(10).create(Device.CPU, 0); TensorScope s = TensorScope.open()) {
            Tensor t = Tensor.of(new long[] {1, 2}, 2);
            Tensor y = Tensor.of(new long[] {1, 2}, 2);
            assertMessage("multiple of 4", () -> m.forward(Tensor.randn(2, 4, 30, 30), t, y));
            assertMessage("down factor", () -> m.forward(Tensor.randn(2, 4, 28, 28), t, y));
            assertMessage("[N, 4, H, W]", () -> m.forward(Tensor.randn(2, 3, 16, 16), t, y));
            assertMessage("labels must lie in [0, 10]", () -> m.forward(Tensor.randn(2, 4, 16, 16), t, Tensor.of(new long[] {1, 11}, 2)));
            assertMessage("int64", () -> m.forward(Tensor.randn(2, 4, 16, 16), t, Tensor.of(new int[] {1, 2}, 2)));
            assertMessage("batch 3", () -> m.guided(Conditioning.labels(Tensor.of(new long[] {1}, 1), 10), 1.5).doubled()
                    .apply(Tensor.randn(3, 4, 16, 16), Tensor.of(new long[] {1, 2, 3}, 3)));
        }
        assertMessage("head width", () -> UDiT.S.withBaseWidth(96, 32));
        assertMessage("5 non-negative", () -> UDiT.S.withDepths(List.of(1, 2)));
        assertEquals(live, Torch.liveTensors());
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should mention '" + part + "'");
    }

    /** Every parameter N(0, 0.05), so gates and the final layer are live. */
    static UDiT randomModel(UDiT.Config cfg, long seed) {
        UDiT m = cfg.create(Device.CPU, seed);
        try (Generator g = Generator.cpu(seed + 1); var noGrad = Autograd.noGrad()) {
            for (Tensor p : m.parameters()) p.normal_(0, 0.05, g);
        }
        return m;
    }
}
