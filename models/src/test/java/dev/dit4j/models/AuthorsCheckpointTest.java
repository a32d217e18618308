package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Files written by the authors' own code with torch.save (src/test/python/make_checkpoint_fixtures.py):
 * a U-ViT plain state dict (.pth, the form of its released checkpoints) and a U-DiT training
 * checkpoint ({"model", "ema", "opt", "args"}) load unchanged, strictly, and give the authors' outputs.
 */
class AuthorsCheckpointTest {
    private static Path resource(String name) {
        try {
            return Path.of(AuthorsCheckpointTest.class.getResource("/checkpoints/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void uvitStateDictLoadsAndMatches() {
        long live = Torch.liveTensors();
        UViT.Config cfg = UViT.CIFAR10_S_2.withName("uvit-small").withImgSize(16).withPatch(2).withInChannels(4).withWidth(64, 2)
                .withDepth(2).withClasses(10, true);
        try (Safetensors.Contents ref = Safetensors.read(resource("checkpoint_outputs.safetensors")); TensorScope s = TensorScope.open();
             UViT model = cfg.create(Device.CPU, 0)) {
            Weights.load(model, resource("uvit_small.pth"));
            model.eval();
            Map<String, Tensor> t = ref.tensors();
            double err = Fixtures.relativeL2(model.forward(t.get("uvit_x"), t.get("t"), t.get("y")), t.get("uvit_out"));
            assertTrue(err < 1e-5, "U-ViT output from the authors' .pth: rel L2 " + err);
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void uditTrainingCheckpointLoadsItsEma() {
        long live = Torch.liveTensors();
        UDiT.Config cfg = UDiT.S.withBaseWidth(16, 2).withDepths(1, 1, 1, 1, 1);
        try (Safetensors.Contents ref = Safetensors.read(resource("checkpoint_outputs.safetensors")); TensorScope s = TensorScope.open();
             UDiT model = cfg.create(Device.CPU, 0)) {
            Weights.load(model, resource("udit_small_train.pt"));
            model.eval();
            Map<String, Tensor> t = ref.tensors();
            double err = Fixtures.relativeL2(model.forward(t.get("udit_x"), t.get("t"), t.get("udit_y")), t.get("udit_out"));
            assertTrue(err < 1e-5, "U-DiT EMA output from the authors' training checkpoint: rel L2 " + err);
        }
        assertEquals(live, Torch.liveTensors());
    }
}
