package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.microdit.TokenMask;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.models.sampling.EdmSampler;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * MicroDiT's EDM against the authors' model.py on the parity fixture's model: the training loss
 * (plain and deferred-masked, on given sigma draws, noise and mask noise) with every parameter's
 * gradient, and 4-step Heun sampling without and with guidance (w 5).
 */
class EdmTest {
    private static final double TOLERANCE = 1e-4;

    @Test
    void lossGradientsAndHeunSamplingMatchTheAuthors() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("microdit_256.safetensors"); TensorScope scope = TensorScope.open()) {
            Map<String, String> meta = ref.metadata();
            Map<String, Tensor> t = ref.tensors();
            try (MicroDiT model = MicroDiTParityTest.config(meta).create(Device.CPU, 0)) {
                Fixtures.loadSeeded(model, meta, t.get("weight_sums"));
                Tensor x = t.get("x"), y = t.get("y");
                Conditioning text = Conditioning.text(y.squeeze(1));
                EdmObjective objective = new EdmObjective(Edm.microDiT256(), 0.75, 2);
                Tensor keep = TokenMask.fromNoise(t.get("mask_noise"), t.get("mask_ratio").item());
                String report = checkLoss(model, objective, text, x, t, null, "edm_loss", "grad_norms_plain")
                        + checkLoss(model, objective, text, x, t, keep, "edm_loss_masked", "grad_norms_masked");

                model.eval();
                int steps = Integer.parseInt(meta.get("sample_steps"));
                try (EdmSampler sampler = EdmSampler.microDiT(steps); var g = dev.dit4j.nn.Autograd.noGrad()) {
                    assertEquals(2 * steps - 1, sampler.steps());
                    Denoiser plain = (xi, ti) -> model.forward(xi, ti, text);
                    double err = Fixtures.relativeL2(sampler.sample(plain, t.get("sample_noise"), null), t.get("sample_heun"));
                    assertTrue(err < TOLERANCE, "Heun sampling: rel L2 " + err);
                    double cfgErr = Fixtures.relativeL2(sampler.sample(model.guided(text, 5.0), t.get("sample_noise"), null), t.get("sample_heun_cfg"));
                    assertTrue(cfgErr < TOLERANCE, "guided Heun sampling: rel L2 " + cfgErr);
                    report += String.format(", Heun rel L2 %.2e, guided %.2e", err, cfgErr);
                }
                System.out.println("EDM:" + report);
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    private static String checkLoss(MicroDiT model, EdmObjective objective, Conditioning text, Tensor x, Map<String, Tensor> t, Tensor keep,
                                    String lossKey, String gradKey) {
        model.train(true);
        model.zeroGrad();
        Tensor loss = objective.losses((xi, ti, k) -> model.forward(xi, ti, text, k), x, t.get("edm_rnd_normal"), t.get("edm_noise"), keep).mean();
        double expected = t.get(lossKey).item();
        assertEquals(expected, loss.item(), 1e-5 * expected, lossKey);
        loss.backward();
        double[] norms = t.get(gradKey).toDoubleArray();
        List<Map.Entry<String, Tensor>> params = List.copyOf(model.namedParameters().entrySet());
        assertEquals(norms.length, params.size(), "one gradient per parameter");
        double worst = 0;
        for (int i = 0; i < norms.length; i++) {
            Tensor grad = params.get(i).getValue().grad();
            double norm = grad == null ? 0 : grad.norm(2, null, false).item();
            if (norms[i] == 0) {
                assertEquals(0, norm, params.get(i).getKey() + " has no gradient in the reference");
                continue;
            }
            double rel = Math.abs(norm - norms[i]) / norms[i];
            assertTrue(rel < TOLERANCE, "gradient norm of " + params.get(i).getKey() + ": " + norm + " vs " + norms[i]);
            worst = Math.max(worst, rel);
        }
        model.zeroGrad();
        return String.format(" %s %.6f (worst gradient-norm rel err %.1e)", lossKey, loss.item(), worst);
    }
}
