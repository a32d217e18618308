package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DiT against the authors' implementation (facebookresearch/DiT models.py and diffusion/) on
 * identical random weights, every parameter random including the zero-initialised gates: one
 * depth-2 member of each family, plain and guided forward, and one training step's gradients.
 */
class DiTParityTest {
    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"dit_S_2_32", "dit_S_2_16", "dit_B_4_32", "dit_L_8_32", "dit_XL_2_32"})
    void matchesTheAuthorsModel(String fixture) {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load(fixture + ".safetensors"); TensorScope scope = TensorScope.open()) {
            Map<String, String> meta = ref.metadata();
            Map<String, Tensor> t = ref.tensors();
            DiT.Config cfg = DiT.PRESETS.get(meta.get("preset")).withDepth(Integer.parseInt(meta.get("depth")))
                    .withInputSize(Integer.parseInt(meta.get("input_size")));
            try (DiT model = cfg.create(Device.CPU, 0)) {
                Fixtures.loadSeeded(model, meta, t.get("weight_sums"));
                model.eval();

                Tensor out = model.forward(t.get("x"), t.get("t"), t.get("y"));
                assertTrue(Fixtures.relativeL2(out, t.get("out")) < TOLERANCE, "plain forward: rel L2 " + Fixtures.relativeL2(out, t.get("out")));
                Tensor cfgOut = Fixtures.guidedDoubled(model, t.get("x"), t.get("t"), t.get("y_cfg"), Double.parseDouble(meta.get("cfg_scale")));
                double cfgErr = Fixtures.relativeL2(cfgOut, t.get("out_cfg"));
                assertTrue(cfgErr < TOLERANCE, "guided forward: rel L2 " + cfgErr);
                System.out.printf("%s: plain rel L2 %.2e, guided rel L2 %.2e%n", fixture, Fixtures.relativeL2(out, t.get("out")), cfgErr);

                // One training step: the hybrid loss on given noise, then every parameter's gradient.
                Tensor xt, loss;
                try (GaussianDiffusion diffusion = GaussianDiffusion.linear(1000)) {
                    xt = diffusion.qSample(t.get("x"), t.get("t"), t.get("noise"));
                    Tensor modelOut = model.forward(xt, t.get("t"), t.get("y"));
                    loss = diffusion.trainingLosses(modelOut, t.get("x"), xt, t.get("t"), t.get("noise")).loss().mean();
                }
                assertEquals(t.get("loss").item(), loss.item(), 1e-5 * Math.abs(t.get("loss").item()), "training loss");
                loss.backward();
                Map<String, Tensor> params = model.namedParameters();
                List<String> gradKeys = List.of(meta.get("grad_keys").split(","));
                double[] stats = t.get("grad_stats").toDoubleArray();
                for (int i = 0; i < gradKeys.size(); i++) {
                    Tensor g = params.get(gradKeys.get(i)).grad();
                    assertNotNull(g, "no gradient for " + gradKeys.get(i));
                    double norm = g.to(dev.dit4j.nn.DType.FLOAT64).norm(2, null, false).item();
                    assertEquals(stats[2 * i + 1], norm, TOLERANCE * Math.max(stats[2 * i + 1], 1e-6), "gradient norm of " + gradKeys.get(i));
                    Tensor full = t.get("grad." + gradKeys.get(i));
                    if (full != null && stats[2 * i + 1] > 1e-6) {
                        double err = Fixtures.relativeL2(g, full);
                        assertTrue(err < TOLERANCE, "gradient of " + gradKeys.get(i) + ": rel L2 " + err);
                    }
                }
                long withGrad = params.values().stream().filter(p -> p.requiresGrad()).count();
                assertEquals(gradKeys.size(), withGrad, "the reference and dit4j train the same parameters (pos_embed is frozen)");
                assertTrue(Arrays.stream(stats).anyMatch(v -> v != 0));
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
