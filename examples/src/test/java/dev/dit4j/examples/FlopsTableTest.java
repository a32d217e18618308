package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiT;
import dev.dit4j.models.flops.FlopSubject;
import dev.dit4j.models.flops.ModelFlops;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.FlopCounter.Op;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/** The papers' parameter and GFLOPs table reproduced by counting the ops a forward pass runs. */
class FlopsTableTest {
    /** DiT's MACs in closed form, which the library's ModelFlopsTest checks against counting. */
    private static long ditMacs(DiT.Config c) {
        long d = c.hidden(), t = c.tokens(), p2 = (long) c.patch() * c.patch();
        return c.depth() * (12 * d * d * t + 2 * t * t * d + 6 * d * d) + t * d * (c.inChannels() + c.outChannels()) * p2 + 256 * d + 3 * d * d;
    }

    @Test
    void ditS8MatchesThePaper() {
        ModelFlops.Result r = ModelFlops.measure(FlopsTable.dit(DiT.S_8), Device.CPU);
        assertTrue(r.matchesReference(), r.gmacs() + " GMACs vs reference " + r.reference());
        assertEquals(ditMacs(DiT.S_8), r.macs());
    }

    @Test
    void uditSMergedWithNormsMatchesItsModelCard() {
        ModelFlops.Result r = ModelFlops.measure(FlopsTable.udit(dev.dit4j.models.UDiT.S), Device.CPU);
        assertTrue(r.matchesReference(), r.gmacs() + " GFLOPs vs the model card's " + r.reference());
        long norms = r.byOp().get(Op.LAYER_NORM);
        assertEquals("6.02", String.format(Locale.ROOT, "%.2f", (r.macs() - norms) / 1e9), "products alone");
        assertEquals(58_896_568, r.params(), "training-form parameters");
    }

    @Test
    void uvitCifarMatchesTheCountOnTheAuthorsCode() {
        ModelFlops.Result r = ModelFlops.measure(FlopsTable.uvit(dev.dit4j.models.UViT.CIFAR10_S_2), Device.CPU);
        assertTrue(r.matchesReference(), r.gmacs() + " vs " + r.reference());
        assertEquals(44_255_328, r.params());
    }

    @Test
    void closedFormMatchesTheReferenceForAllTwelve() {
        // Checks the closed form (verified against counting in ModelFlopsTest) on the presets too big for a unit test.
        for (DiT.Config c : DiT.PRESETS.all()) {
            var r = new ModelFlops.Result(c.name(), 0, ditMacs(c), java.util.Map.of(), FlopsTable.DIT_REFERENCE.get(c.name()));
            assertTrue(r.matchesReference(), c.name() + ": " + r.gmacs() + " vs " + r.reference());
        }
    }

    @Test
    void tableListsTheTwelveDiTsInThePapersOrder() {
        List<String> names = FlopsTable.subjects().stream().map(FlopSubject::name).toList();
        assertEquals(List.of("DiT-S/8", "DiT-S/4", "DiT-S/2", "DiT-B/8", "DiT-B/4", "DiT-B/2", "DiT-L/8", "DiT-L/4",
                "DiT-L/2", "DiT-XL/8", "DiT-XL/4", "DiT-XL/2"), names.subList(0, 12));
        assertEquals(List.of("DiT-XL/8", "DiT-XL/4", "DiT-XL/2"), FlopsTable.subjects("xl/").stream().map(FlopSubject::name).toList());
        var e = assertThrows(IllegalArgumentException.class, () -> FlopsTable.subjects("nope"));
        assertTrue(e.getMessage().contains("DiT-S/8"), e.getMessage());
    }

    @Test
    void markdownRowsCarryParamsGmacsAndReference() {
        var r = new ModelFlops.Result("DiT-XL/2", 675_129_632, 118_621_421_568L, java.util.Map.of(), "118.6");
        var miss = new ModelFlops.Result("X", 1_000_000, 2_000_000_000L, java.util.Map.of(), "2.01");
        var none = new ModelFlops.Result("Y", 1_000_000, 1, java.util.Map.of(), null);
        String md = FlopsTable.markdown(List.of(r, miss, none));
        assertTrue(md.contains("| DiT-XL/2 | 675.13 | 118.62 | 118.6 | yes |"), md);
        assertTrue(md.contains("| X | 1.00 | 2.00 | 2.01 | NO |"), md);
        assertTrue(md.contains("| Y | 1.00 | 0.00 | - |  |"), md);
    }

    /**
     * The whole table (about 2.6 G parameters built in turn, ~1.5 min on 2 CPU cores): run with
     * -Ddit4j.flops.full=true, or {@code ./dit4j flops}. Produced that way, all 12 DiT rows match
     * their reference to its printed rounding (XL/2: 675.13M params, 118.62 GMACs).
     */
    @Test
    @EnabledIfSystemProperty(named = "dit4j.flops.full", matches = "true")
    void fullTable() {
        List<ModelFlops.Result> results = FlopsTable.measure(FlopsTable.subjects(), Device.CPU, r -> {});
        System.out.println(FlopsTable.markdown(results));
        for (ModelFlops.Result r : results) {
            if (r.reference() != null) assertTrue(r.matchesReference(), r.name() + ": " + r.gmacs() + " vs " + r.reference());
        }
    }
}
