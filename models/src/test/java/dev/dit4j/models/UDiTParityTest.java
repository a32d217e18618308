package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.models.udit.DownsampledAttention;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * U-DiT against the authors' udit_models.py (fixtures by src/test/python/make_udit_fixtures.py)
 * on identical random weights, every parameter random: U-DiT-S width and heads with one block
 * per stage at latent sides 32 and 16, plain, guided and merged-FFN forwards; one training
 * step's gradients at side 16; the downsampled attention alone on a non-square map.
 */
class UDiTParityTest {
    private static final double TOLERANCE = 1e-4;

    private static UDiT.Config config(Map<String, String> meta) {
        int[] d = Arrays.stream(meta.get("depths").split(",")).mapToInt(Integer::parseInt).toArray();
        return UDiT.S.withBaseWidth(Integer.parseInt(meta.get("width")), Integer.parseInt(meta.get("heads")))
                .withDepths(d[0], d[1], d[2], d[3], d[4]);
    }

    private static void assertClose(Tensor actual, Tensor expected, String what) {
        double err = Fixtures.relativeL2(actual, expected);
        assertTrue(err < TOLERANCE, what + ": rel L2 " + err);
        System.out.printf("  %s: rel L2 %.2e%n", what, err);
    }

    @ParameterizedTest
    @ValueSource(strings = {"udit_S_32", "udit_S_16"})
    void matchesTheAuthorsModel(String fixture) {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load(fixture + ".safetensors"); TensorScope scope = TensorScope.open()) {
            Map<String, String> meta = ref.metadata();
            Map<String, Tensor> t = ref.tensors();
            try (UDiT model = config(meta).create(Device.CPU, 0)) {
                Fixtures.loadSeeded(model, meta, t.get("weight_sums"));
                model.eval(); // no label dropout; FFNs stay in the training form until reparameterize()
                System.out.println(fixture);
                assertClose(model.forward(t.get("x"), t.get("t"), t.get("y")), t.get("out"), "plain forward");
                assertClose(Fixtures.guidedDoubled(model, t.get("x"), t.get("t"), t.get("y_cfg"), Double.parseDouble(meta.get("cfg_scale"))),
                        t.get("out_cfg"), "guided forward");

                model.reparameterize();
                assertTrue(model.isReparameterized());
                assertClose(model.forward(t.get("x"), t.get("t"), t.get("y")), t.get("out_merged"), "merged FFN forward");

                if (t.containsKey("grad_stats")) {
                    model.train(false);
                    model.train(true); // drops the merged weights
                    assertFalse(model.isReparameterized());
                    model.eval(); // label dropout off; training form (the reference ran train() with dropout 0)
                    checkTrainingStep(model, meta, t);
                }
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    private static void checkTrainingStep(UDiT model, Map<String, String> meta, Map<String, Tensor> t) {
        Tensor loss;
        try (GaussianDiffusion diffusion = GaussianDiffusion.linear(1000)) {
            Tensor xt = diffusion.qSample(t.get("x"), t.get("t"), t.get("noise"));
            loss = diffusion.trainingLosses(model.forward(xt, t.get("t"), t.get("y")), t.get("x"), xt, t.get("t"),
                    t.get("noise")).loss().mean();
        }
        assertEquals(t.get("loss").item(), loss.item(), 1e-5 * Math.abs(t.get("loss").item()), "training loss");
        loss.backward();
        Map<String, Tensor> params = model.namedParameters();
        List<String> gradKeys = List.of(meta.get("grad_keys").split(","));
        assertEquals(gradKeys, List.copyOf(params.keySet()), "every parameter gets a gradient in both");
        double[] stats = t.get("grad_stats").toDoubleArray();
        int full = 0;
        for (int i = 0; i < gradKeys.size(); i++) {
            Tensor g = params.get(gradKeys.get(i)).grad();
            assertNotNull(g, "no gradient for " + gradKeys.get(i));
            double norm = g.to(DType.FLOAT64).norm(2, null, false).item();
            assertEquals(stats[2 * i + 1], norm, TOLERANCE * Math.max(stats[2 * i + 1], 1e-6), "gradient norm of " + gradKeys.get(i));
            Tensor expected = t.get("grad." + gradKeys.get(i));
            if (expected != null && stats[2 * i + 1] > 1e-6) {
                double err = Fixtures.relativeL2(g, expected);
                assertTrue(err < TOLERANCE, "gradient of " + gradKeys.get(i) + ": rel L2 " + err);
                full++;
            }
        }
        System.out.printf("  training step: loss %.6f, %d gradient norms, %d full gradients match%n", loss.item(), gradKeys.size(), full);
        model.zeroGrad();
    }

    @Test
    void downsampledAttentionAloneMatchesOnANonSquareMap() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("udit_attention.safetensors"); TensorScope scope = TensorScope.open()) {
            Map<String, String> meta = ref.metadata();
            Map<String, Tensor> t = ref.tensors();
            try (dev.dit4j.nn.Generator gen = dev.dit4j.nn.Generator.cpu(0);
                 DownsampledAttention attn = new DownsampledAttention(dev.dit4j.nn.VarBuilder.init(DType.FLOAT32, Device.CPU, gen),
                         Integer.parseInt(meta.get("width")), Integer.parseInt(meta.get("heads")), 2, 5)) {
                Fixtures.loadSeeded(attn, meta, t.get("weight_sums"));
                try (var g = Autograd.noGrad()) {
                    attn.logitScale().copy_(t.get("logit_scale"));
                }
                Tensor x = t.get("x").clone().requiresGrad(true);
                Tensor out = attn.forward(x);
                System.out.println("downsampled attention 2x96x8x16");
                assertClose(out, t.get("out"), "output");
                out.square().sum().backward();
                assertClose(x.grad(), t.get("grad_x"), "input gradient");
                assertClose(attn.logitScale().grad(), t.get("grad_logit_scale"), "logit-scale gradient");
                float[] gls = attn.logitScale().grad().toFloatArray();
                assertEquals(0.0f, gls[1], "a scale above the clamp gets no gradient");
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
