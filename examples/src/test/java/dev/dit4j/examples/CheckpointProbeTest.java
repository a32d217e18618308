package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiT;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.Presets;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a plain torch.save'd state dict says about its model, as the authors' released files are. */
class CheckpointProbeTest {
    @TempDir
    Path dir;

    @Test
    void microDiTIsToldFromDiTByItsMaskToken() {
        long live = Torch.liveTensors();
        Path micro = dir.resolve("micro.pt"), dit = dir.resolve("dit.pt");
        try (TensorScope s = TensorScope.open(); MicroDiT m = PromptSampleTest.MICRO.withInputSize(16).create(Device.CPU, 1);
             DiT d = DiT.PRESETS.get("DiT-S/2").withInputSize(8).withDepth(1).create(Device.CPU, 1)) {
            TorchCheckpoint.write(micro, m.stateDict());
            TorchCheckpoint.write(dit, d.stateDict());
        }
        assertEquals(new CheckpointProbe(Presets.Family.MICRODIT, 3, 16), CheckpointProbe.of(micro));
        assertEquals(new CheckpointProbe(Presets.Family.DIT, 4, 8), CheckpointProbe.of(dit));
        assertEquals(live, Torch.liveTensors());
    }
}
