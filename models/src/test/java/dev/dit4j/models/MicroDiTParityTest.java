package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.microdit.TokenMask;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * MicroDiT against the authors' micro_diffusion/models/dit.py on identical random weights (every
 * state-dict entry randn * 0.05), at reduced width and depth with the presets' structure
 * (layer-wise widths, MoE every second block, head dim, no biases): a 256-px-like case whose
 * mixer is narrower than the backbone (map layers) and a 512-px-like one at pos_interp_scale 2;
 * plain, guided (w 5) and deferred-masked forwards.
 */
class MicroDiTParityTest {
    private static final double TOLERANCE = 1e-4;

    /** The fixture's reduced configuration (make_microdit_fixtures.py). */
    static MicroDiT.Config config(Map<String, String> meta) {
        return MicroDiT.TINY_2.with(b -> b.inputSize(Integer.parseInt(meta.get("input_size"))).dim(Integer.parseInt(meta.get("dim")))
                .depth(Integer.parseInt(meta.get("depth"))).headDim(Integer.parseInt(meta.get("head_dim")))
                .multipleOf(Integer.parseInt(meta.get("multiple_of"))).captionChannels(Integer.parseInt(meta.get("caption")))
                .posInterpScale(Double.parseDouble(meta.get("scale"))).mixerDepth(Integer.parseInt(meta.get("mixer_depth")))
                .mixerDim(Integer.parseInt(meta.get("mixer_dim"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"microdit_256", "microdit_512"})
    void matchesTheAuthorsModel(String fixture) {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load(fixture + ".safetensors"); TensorScope scope = TensorScope.open();
             var g = Autograd.noGrad()) {
            Map<String, String> meta = ref.metadata();
            Map<String, Tensor> t = ref.tensors();
            try (MicroDiT model = config(meta).create(Device.CPU, 0)) {
                double posErr = Fixtures.relativeL2(model.stateDict().get("pos_embed"), t.get("pos_embed_init"));
                assertTrue(posErr < 1e-7, "position table at pos_interp_scale " + meta.get("scale") + ": rel L2 " + posErr);
                Fixtures.loadSeeded(model, meta, t.get("weight_sums"));
                model.eval();
                Tensor x = t.get("x"), time = t.get("t"), y = t.get("y");

                double err = Fixtures.relativeL2(model.forward(x, time, y, null), t.get("out"));
                assertTrue(err < TOLERANCE, "plain forward: rel L2 " + err);
                double textErr = Fixtures.relativeL2(model.forward(x, time, Conditioning.text(y.squeeze(1))), t.get("out"));
                assertTrue(textErr < TOLERANCE, "text conditioning: rel L2 " + textErr);
                double cfgErr = Fixtures.relativeL2(model.guided(Conditioning.text(y.squeeze(1)), Double.parseDouble(meta.get("cfg_scale"))).apply(x, time), t.get("out_cfg"));
                assertTrue(cfgErr < TOLERANCE, "guided forward: rel L2 " + cfgErr);
                Tensor keep = TokenMask.fromNoise(t.get("mask_noise"), t.get("mask_ratio").item());
                double maskErr = Fixtures.relativeL2(model.forward(x, time, y, keep), t.get("out_masked"));
                assertTrue(maskErr < TOLERANCE, "masked forward: rel L2 " + maskErr);
                Tensor dropped = TokenMask.keptMask(keep, t.get("mask_noise").size(1), DType.FLOAT32).rsub(1);
                assertEquals(0, dropped.sub(t.get("mask")).abs().max().item(), "the authors' mask (1 = dropped)");
                System.out.printf("%s: rel L2 plain %.2e, guided %.2e, masked %.2e, pos table %.1e%n", fixture, err, cfgErr, maskErr, posErr);
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
