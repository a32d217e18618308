package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.PythonObject;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MicroDiT's weights in the two forms its authors' files take (src/test/python/make_microdit_checkpoint_fixtures.py):
 * the DiT's plain state dict at the 512 px shape pattern (pos_embed (1, 1024, D), pos_interp_scale 2), as the
 * released .pt files, and a composer Trainer checkpoint ({"state": {"model": {"dit.*", "vae.*", ...},
 * "optimizers", ...}, "rng": ...}), as train.py writes. Both load unchanged and give the authors' outputs.
 */
class MicroDiTCheckpointTest {
    /** The fixtures' narrow DiT: Tiny_2's structure at width 8. */
    private static final MicroDiT.Config NARROW = MicroDiT.TINY_2.with(b -> b.dim(8).headDim(4).multipleOf(16).captionChannels(8)
            .mixerDepth(1).mixerDim(8));
    /** 64x64 latents (512 px): 1024 tokens, position table at pos_interp_scale 2; block 1 of 3 is a MoE. */
    private static final MicroDiT.Config AT_512 = NARROW.withInputSize(64).withDepth(3).withPosInterpScale(2);
    private static final MicroDiT.Config COMPOSER = NARROW.withInputSize(8).withDepth(1);

    private static Path resource(String name) {
        try {
            return Path.of(MicroDiTCheckpointTest.class.getResource("/checkpoints/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void releasedStateDictAt512LoadsWithItsPositionTable() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Safetensors.read(resource("microdit_checkpoint_outputs.safetensors")); TensorScope s = TensorScope.open();
             Generator g = Generator.cpu(Long.parseLong(ref.metadata().get("plain_x_seed")));
             MicroDiT model = AT_512.load(resource("microdit_512_plain.pt"), Device.CPU);
             MicroDiT fresh = AT_512.create(Device.CPU, 0)) {
            Tensor table = model.stateDict().get("pos_embed");
            assertArrayEquals(new long[] {1, 1024, 8}, table.shape());
            double tableErr = Fixtures.relativeL2(table, fresh.stateDict().get("pos_embed"));
            assertTrue(tableErr < 1e-6, "the file's table is the sin-cos table at pos_interp_scale 2: rel L2 " + tableErr);
            model.eval();
            Map<String, Tensor> t = ref.tensors();
            Tensor x = Tensor.randn(new long[] {1, 4, 64, 64}, DType.FLOAT32, Device.CPU, g);
            double err = Fixtures.relativeL2(model.forward(x, t.get("t").narrow(0, 0, 1), t.get("y").narrow(0, 0, 1), null), t.get("plain_out"));
            assertTrue(err < 1e-5, "MicroDiT output from the authors' 512 px state dict: rel L2 " + err);
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void releasedStateDictAt512IsRefusedByA256Config() {
        long live = Torch.liveTensors();
        StateDictMismatch e = assertThrows(StateDictMismatch.class,
                () -> AT_512.withInputSize(32).withPosInterpScale(1).load(resource("microdit_512_plain.pt"), Device.CPU));
        assertTrue(e.getMessage().contains("pos_embed") && e.getMessage().contains("1024"), e.getMessage());
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void composerCheckpointLoadsItsDiT() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Safetensors.read(resource("microdit_checkpoint_outputs.safetensors")); TensorScope s = TensorScope.open();
             MicroDiT built = COMPOSER.load(resource("microdit_composer.pt"), Device.CPU);
             MicroDiT existing = COMPOSER.create(Device.CPU, 3)) {
            Weights.load(existing, resource("microdit_composer.pt"));
            Map<String, Tensor> t = ref.tensors();
            for (MicroDiT model : List.of(built, existing)) {
                model.eval();
                double err = Fixtures.relativeL2(model.forward(t.get("composer_x"), t.get("t"), t.get("y"), null), t.get("composer_out"));
                assertTrue(err < 1e-5, "MicroDiT output from state/model/dit.* of a composer checkpoint: rel L2 " + err);
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    /** What composer stores beside the weights reads as data: timedelta wall-clock times, numpy RNG state, torch's version. */
    @Test
    void composerCheckpointReadsWhole() {
        long live = Torch.liveTensors();
        Object root = TorchCheckpoint.read(resource("microdit_composer.pt"));
        try {
            Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) root).get("state");
            Map<?, ?> timestamp = (Map<?, ?>) state.get("timestamp");
            assertEquals(new PythonObject("datetime.timedelta", List.of(0L, 1234L, 5678L), null), timestamp.get("total_wct"));
            assertEquals(1L, timestamp.get("batch"));
            Map<?, ?> metadata = (Map<?, ?>) state.get("metadata");
            PythonObject version = (PythonObject) metadata.get("torch_version");
            assertEquals("torch.torch_version.TorchVersion", version.type());
            assertTrue(version.args().getFirst() instanceof String v && v.startsWith("2."), version.toString());
            List<?> numpy = (List<?>) ((Map<?, ?>) ((List<?>) ((Map<?, ?>) root).get("rng")).getFirst()).get("numpy");
            assertEquals("MT19937", numpy.getFirst());
            PythonObject keys = (PythonObject) numpy.get(1);
            assertTrue(keys.type().endsWith("multiarray._reconstruct"), keys.type());
            assertEquals("numpy.ndarray", keys.args().getFirst());
            List<?> array = (List<?>) keys.state(); // (version, shape, dtype, fortran order, raw bytes)
            assertEquals(List.of(624L), array.get(1));
            assertEquals(624 * 4, ((byte[]) array.get(4)).length);
            Map<?, ?> model = (Map<?, ?>) state.get("model");
            assertTrue(model.containsKey("dit.pos_embed") && model.containsKey("vae.weight") && model.containsKey("text_encoder.weight"),
                    model.keySet().toString());
            Map<?, ?> adam = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) state.get("optimizers")).get("AdamW")).get("state");
            assertTrue(adam.containsKey("dit.x_embedder.proj.weight"), adam.keySet().toString());
        } finally {
            TorchCheckpoint.closeTensors(root);
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void composerCheckpointMismatchesAreReportedTogether() {
        long live = Torch.liveTensors();
        StateDictMismatch e = assertThrows(StateDictMismatch.class,
                () -> COMPOSER.withDepth(2).withInputSize(16).load(resource("microdit_composer.pt"), Device.CPU));
        String m = e.getMessage();
        assertTrue(m.contains("blocks.1.") && m.contains("pos_embed"), m); // a missing block and a mis-shaped table, in one message
        assertFalse(m.contains("vae.") || m.contains("text_encoder."), m); // the other modules of the composer model are not the DiT's
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void composerCheckpointWithoutADiTIsRefusedByName(@TempDir Path dir) {
        long live = Torch.liveTensors();
        Path file = dir.resolve("vae_only.pt");
        try (TensorScope s = TensorScope.open()) {
            TorchCheckpoint.write(file, Map.of("state", Map.of("model", Map.of("vae.weight", Tensor.zeros(2)), "rank_zero_seed", 1L)));
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> COMPOSER.load(file, Device.CPU));
        assertTrue(e.getMessage().contains("holds no DiT") && e.getMessage().contains("'dit.'"), e.getMessage());
        assertTrue(Files.exists(file));
        assertEquals(live, Torch.liveTensors());
    }
}
