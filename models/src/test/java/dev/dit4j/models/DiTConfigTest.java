package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Torch;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DiTConfigTest {
    /** Counted by instantiating facebookresearch/DiT's models (input 32, learned sigma, 1000 classes). */
    private static final Map<String, Long> REFERENCE_COUNTS = Map.ofEntries(
            Map.entry("DiT-S/2", 32_963_360L), Map.entry("DiT-S/4", 32_945_024L), Map.entry("DiT-S/8", 33_148_160L),
            Map.entry("DiT-B/2", 130_512_416L), Map.entry("DiT-B/4", 130_475_648L), Map.entry("DiT-B/8", 130_881_536L),
            Map.entry("DiT-L/2", 458_102_816L), Map.entry("DiT-L/4", 458_053_760L), Map.entry("DiT-L/8", 458_594_816L),
            Map.entry("DiT-XL/2", 675_129_632L), Map.entry("DiT-XL/4", 675_074_432L), Map.entry("DiT-XL/8", 675_683_072L));

    @Test
    void everyPresetHasTheReferenceParameterCount() {
        long live = Torch.liveTensors();
        assertEquals(12, DiT.PRESETS.all().size());
        for (DiT.Config cfg : DiT.PRESETS.all()) {
            try (DiT model = cfg.create(Device.CPU, 0)) {
                assertEquals(REFERENCE_COUNTS.get(cfg.name()), model.parameterCount(), cfg.name());
                // the fixed position table is a parameter that is never trained
                assertFalse(model.namedParameters().get("pos_embed").requiresGrad());
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void presetsAreFoundByEitherName() {
        assertSame(DiT.XL_2, DiT.PRESETS.get("DiT-XL/2"));
        assertSame(DiT.B_4, DiT.PRESETS.get("b_4"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiT.PRESETS.get("DiT-M/2"));
        assertTrue(e.getMessage().contains("DiT-XL/2"), e.getMessage());
    }

    @Test
    void invalidConfigurationsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> DiT.S_2.withInputSize(33));
        assertThrows(IllegalArgumentException.class,
                () -> new DiT.Config("x", 2, 100, 3, 2, 4, 4, 32, 10, true, 0.1));
    }

    @Test
    void initialisationFollowsTheReference() {
        try (DiT model = DiT.S_8.withDepth(2).create(Device.CPU, 3)) {
            var p = model.namedParameters();
            // adaLN-Zero: every modulation and the output head start at exactly zero
            for (String k : new String[] {"blocks.0.adaLN_modulation.1.weight", "blocks.1.adaLN_modulation.1.bias",
                    "final_layer.adaLN_modulation.1.weight", "final_layer.linear.weight", "final_layer.linear.bias"}) {
                assertEquals(0, p.get(k).abs().max().item(), k);
            }
            assertEquals(0.02, p.get("y_embedder.embedding_table.weight").var(null, 1, false).sqrt().item(), 0.002);
            assertEquals(0, p.get("blocks.0.attn.qkv.bias").abs().max().item());
            double bound = Math.sqrt(6.0 / (384 + 3 * 384));
            assertTrue(p.get("blocks.0.attn.qkv.weight").abs().max().item() <= bound);
        }
    }
}
