package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.family.ModelFamily;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * U-ViT against the authors' libs/uvit.py and libs/uvit_t2i.py on identical random weights
 * (every parameter randn * 0.05): U-ViT-S width, heads and patch at depth 4, class-conditional
 * at 32 and 16 px (the latter without the final conv, as the H models), unconditional pixels,
 * and text tokens; plain and guided forward, and one training step's gradients.
 */
class UViTParityTest {
    private static final double TOLERANCE = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"uvit_class_32", "uvit_class_16_noconv", "uvit_uncond_32", "uvit_t2i_32"})
    void matchesTheAuthorsModel(String fixture) {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load(fixture + ".safetensors"); TensorScope scope = TensorScope.open()) {
            Map<String, String> meta = ref.metadata();
            Map<String, Tensor> t = ref.tensors();
            UViT.Config cfg = UViT.PRESETS.get(meta.get("preset")).withWidth(512, 8).withPatch(2)
                    .withDepth(Integer.parseInt(meta.get("depth"))).withImgSize(Integer.parseInt(meta.get("img_size")))
                    .withConv(Boolean.parseBoolean(meta.get("conv"))).withLabelDropout(0);
            try (UViT model = cfg.create(Device.CPU, 0)) {
                Fixtures.loadSeeded(model, meta, t.get("weight_sums"));
                model.eval();

                Tensor third = cfg.textConditional() ? t.get("context") : t.get("y");
                double err = Fixtures.relativeL2(model.forward(t.get("x"), t.get("t"), third), t.get("out"));
                assertTrue(err < TOLERANCE, "plain forward: rel L2 " + err);
                String report = String.format("%s: plain rel L2 %.2e", fixture, err);

                if (meta.containsKey("cfg_scale")) {
                    double scale = ModelFamily.UVIT.scaleFromAuthors(Double.parseDouble(meta.get("cfg_scale")));
                    Tensor guided = cfg.textConditional()
                            ? model.guided(Conditioning.text(t.get("context"), t.get("empty_context")), scale).apply(t.get("x"), t.get("t"))
                            : Fixtures.guidedDoubled(model, t.get("x"), t.get("t_cfg"), t.get("y_cfg"), scale);
                    double cfgErr = Fixtures.relativeL2(guided, t.get("out_cfg"));
                    assertTrue(cfgErr < TOLERANCE, "guided forward: rel L2 " + cfgErr);
                    report += String.format(", guided rel L2 %.2e", cfgErr);
                }
                if (meta.containsKey("grad_keys")) report += checkTrainingStep(model, t, meta, third);
                System.out.println(report);
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    /** The authors' LSimple on given noise: mean((eps - eps_hat)^2); then every parameter's gradient. */
    private static String checkTrainingStep(UViT model, Map<String, Tensor> t, Map<String, String> meta, Tensor third) {
        model.train(true);
        Tensor loss = model.forward(t.get("x"), t.get("t"), third).sub(t.get("noise")).square().mean();
        assertEquals(t.get("loss").item(), loss.item(), 1e-5 * Math.abs(t.get("loss").item()), "training loss");
        loss.backward();
        Map<String, Tensor> params = model.namedParameters();
        List<String> gradKeys = List.of(meta.get("grad_keys").split(","));
        assertEquals(List.copyOf(params.keySet()), gradKeys, "every parameter is trained, pos_embed included");
        double[] stats = t.get("grad_stats").toDoubleArray();
        double worst = 0;
        for (int i = 0; i < gradKeys.size(); i++) {
            Tensor g = params.get(gradKeys.get(i)).grad();
            assertNotNull(g, "no gradient for " + gradKeys.get(i));
            double norm = g.to(DType.FLOAT64).norm(2, null, false).item();
            double expected = stats[2 * i + 1];
            assertTrue(expected > 0, "reference gradient of " + gradKeys.get(i) + " is zero");
            assertEquals(expected, norm, TOLERANCE * expected, "gradient norm of " + gradKeys.get(i));
            Tensor full = t.get("grad." + gradKeys.get(i));
            if (full != null) {
                double err = Fixtures.relativeL2(g, full);
                assertTrue(err < TOLERANCE, "gradient of " + gradKeys.get(i) + ": rel L2 " + err);
                worst = Math.max(worst, err);
            }
        }
        return String.format(", loss %.6f, %d gradients, worst full-gradient rel L2 %.2e", loss.item(), gradKeys.size(), worst);
    }
}
