package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.models.diffusion.Respacing;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ADM diffusion against values produced by the authors' diffusion/ package. */
class GaussianDiffusionTest {
    private static void close(Tensor actual, Tensor expected, double tol, String what) {
        double err = Fixtures.relativeL2(actual, expected);
        assertTrue(err < tol, what + ": rel L2 " + err);
    }

    @Test
    void stepsAndLossTermsMatchTheReference() {
        try (Safetensors.Contents ref = Fixtures.load("gaussian_diffusion.safetensors"); TensorScope s = TensorScope.open();
             GaussianDiffusion d = GaussianDiffusion.linear(1000)) {
            Map<String, Tensor> r = ref.tensors();
            Tensor t = r.get("t");
            Tensor xt = d.qSample(r.get("x0"), t, r.get("noise"));
            close(xt, r.get("xt"), 1e-6, "q_sample");
            try (GaussianDiffusion.MeanVariance mv = d.pMeanVariance(r.get("model_out"), r.get("xt"), t)) {
                close(mv.mean(), r.get("mean"), 1e-5, "p mean");
                close(mv.logVariance(), r.get("log_variance"), 1e-6, "p log variance");
                close(mv.predXStart(), r.get("pred_xstart"), 1e-5, "predicted x0");
            }
            GaussianDiffusion.Losses losses = d.trainingLosses(r.get("model_out"), r.get("x0"), r.get("xt"), t, r.get("noise"));
            close(losses.vb(), r.get("vb"), 1e-5, "VLB terms in bits (t = 0 is the decoder NLL)");
            close(losses.mse(), r.get("mse"), 1e-6, "mse term");
            close(d.pSample(r.get("model_out"), r.get("xt"), t, r.get("step_noise")), r.get("ddpm"), 1e-5, "DDPM step");
            close(d.ddimSample(r.get("model_out"), r.get("xt"), t, 0, null), r.get("ddim"), 1e-5, "DDIM step");
        }
    }

    @Test
    void respacingKeepsTheReferenceTimesteps() {
        try (Safetensors.Contents ref = Fixtures.load("gaussian_diffusion.safetensors")) {
            Map<String, Tensor> r = ref.tensors();
            assertArrayEquals(toInts(r.get("respaced_timesteps").toLongArray()), Respacing.timesteps(1000, "250").stream().mapToInt(i -> i).toArray());
            assertArrayEquals(toInts(r.get("ddim25_timesteps").toLongArray()), Respacing.timesteps(1000, "ddim25").stream().mapToInt(i -> i).toArray());
            try (GaussianDiffusion sp = GaussianDiffusion.respaced(1000, "250"); TensorScope s = TensorScope.open();
                 GaussianDiffusion.MeanVariance mv = sp.pMeanVariance(r.get("model_out"), r.get("xt"), r.get("respaced_t"))) {
                close(mv.mean(), r.get("respaced_mean"), 1e-5, "respaced mean");
                close(mv.logVariance(), r.get("respaced_log_variance"), 1e-6, "respaced log variance");
                assertEquals(250, sp.numTimesteps());
                assertEquals(999, sp.timestepMap()[249]);
                Tensor steps = Tensor.of(new long[] {0, 1, 249}, 3);
                assertArrayEquals(new double[] {0, 4, 999}, sp.modelTimesteps(steps).toDoubleArray(), "network timesteps of respaced steps");
            }
            // stride 14.5: Python's round() sends the tie to the even 14
            assertEquals(List.of(0, 14, 29), Respacing.timesteps(30, "3"));
        }
    }

    private static int[] toInts(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (int) v[i];
        return out;
    }
}
