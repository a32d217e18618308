package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Released-style weights load unchanged from .pt and .safetensors, EMA first in training checkpoints. */
class WeightsTest {
    private static final DiT.Config CFG = DiT.PRESETS.get("DiT-S/8").withDepth(2).withInputSize(16);

    @TempDir
    Path dir;

    private static void assertSameWeights(DiT a, DiT b) {
        a.stateDict().forEach((k, v) -> assertArrayEquals(v.toFloatArray(), b.stateDict().get(k).toFloatArray(), k));
    }

    @Test
    void plainStateDictsLoadFromBothFormats() {
        long live = Torch.liveTensors();
        try (DiT source = CFG.create(Device.CPU, 1); DiT fromPt = CFG.create(Device.CPU, 2);
             DiT fromSt = CFG.create(Device.CPU, 3)) {
            TorchCheckpoint.write(dir.resolve("w.pt"), source.stateDict());
            Safetensors.save(dir.resolve("w.safetensors"), source.stateDict());
            Weights.load(fromPt, dir.resolve("w.pt"));
            Weights.load(fromSt, dir.resolve("w.safetensors"));
            assertSameWeights(source, fromPt);
            assertSameWeights(source, fromSt);
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void trainingCheckpointsGiveTheirEma() {
        try (DiT model = CFG.create(Device.CPU, 1); DiT ema = CFG.create(Device.CPU, 2); DiT target = CFG.create(Device.CPU, 3)) {
            TorchCheckpoint.write(dir.resolve("ckpt.pt"), Map.of("model", model.stateDict(), "ema", ema.stateDict(), "args", Map.of("lr", 1e-4)));
            Weights.load(target, dir.resolve("ckpt.pt"));
            assertSameWeights(ema, target);
        }
    }

    @Test
    void wrongFilesAreNamed() {
        try (DiT target = CFG.create(Device.CPU, 3); Tensor t = Tensor.zeros(2)) {
            TorchCheckpoint.write(dir.resolve("odd.pt"), Map.of("weights", t, "note", "hello"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> Weights.load(target, dir.resolve("odd.pt")));
            assertTrue(e.getMessage().contains("'note'"), e.getMessage());
            assertThrows(CheckpointException.class, () -> Weights.load(target, dir.resolve("w.ckpt")));
        }
    }

    @Test
    void aMismatchNamesTheFile() {
        Path file = dir.resolve("deeper.safetensors");
        try (DiT deeper = CFG.withDepth(3).create(Device.CPU, 1); DiT model = CFG.create(Device.CPU, 2)) {
            Safetensors.save(file, deeper.stateDict());
            dev.dit4j.nn.StateDictMismatch e = assertThrows(dev.dit4j.nn.StateDictMismatch.class, () -> Weights.load(model, file));
            assertTrue(e.getMessage().startsWith("weights file " + file + " does not match the model"), e.getMessage());
            assertFalse(e.unexpected().isEmpty());
        }
    }
}
