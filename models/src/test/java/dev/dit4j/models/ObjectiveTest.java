package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.NoisePredictionObjective;
import dev.dit4j.models.train.VpSdeObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** U-ViT's discrete objective against its authors' schedule, and training under bf16 autocast. */
class ObjectiveTest {
    @Test
    void noisePredictionUsesUViTsScheduleAndTimesteps() {
        long live = Torch.liveTensors();
        try (NoisePredictionObjective objective = NoisePredictionObjective.uvit(); TensorScope s = TensorScope.open();
             Generator gen = Generator.cpu(3)) {
            Tensor x0 = Tensor.ones(new long[] {256, 1, 1, 1}, DType.FLOAT64, Device.CPU);
            List<double[]> seen = new ArrayList<>();
            Tensor losses = objective.losses((xt, t) -> {
                seen.add(xt.flatten().toDoubleArray());
                seen.add(t.toDoubleArray());
                return Tensor.zeros(xt.shape(), xt.dtype(), xt.device());
            }, x0, gen);
            double[] xt = seen.get(0), t = seen.get(1);
            // cum_alphas[n] of U-ViT's Schedule (train_ldm_discrete.py) for n = 1, 500, 1000
            double[][] reference = {{1, 0.99915}, {500, 0.27766965045646763}, {1000, 0.004660098513077238}};
            int found = 0;
            for (int i = 0; i < t.length; i++) {
                assertTrue(t[i] >= 1 && t[i] <= 1000 && t[i] == Math.rint(t[i]), "network time " + t[i] + " is an integer in 1..1000");
                for (double[] r : reference) {
                    if (t[i] != r[0]) continue;
                    found++;
                    // with x0 = 1 and eps_hat = 0: x_n = sqrt(abar) + sqrt(1 - abar) eps and the loss is eps^2
                    double eps = (xt[i] - Math.sqrt(r[1])) / Math.sqrt(1 - r[1]);
                    assertEquals(eps * eps, losses.toDoubleArray()[i], 1e-6 * Math.max(1, eps * eps), "x_n at n = " + r[0] + " (float32 schedule)");
                }
            }
            double mean = java.util.Arrays.stream(t).average().orElseThrow();
            assertEquals(500.5, mean, 60, "n is uniform over 1..1000");
            assertTrue(found > 0, "the seeded draw hits a reference step");
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void vpSdeObjectiveFollowsUViTsContinuousSchedule() {
        long live = Torch.liveTensors();
        try (VpSdeObjective objective = VpSdeObjective.uvit(); TensorScope s = TensorScope.open(); Generator gen = Generator.cpu(4)) {
            Tensor x0 = Tensor.ones(new long[] {64, 1, 1, 1}, DType.FLOAT64, Device.CPU);
            List<double[]> seen = new ArrayList<>();
            double[] losses = objective.losses((xt, t) -> {
                seen.add(xt.flatten().toDoubleArray());
                seen.add(t.toDoubleArray());
                return Tensor.zeros(xt.shape(), xt.dtype(), xt.device());
            }, x0, gen).toDoubleArray();
            double[] xt = seen.get(0), tNet = seen.get(1);
            for (int i = 0; i < tNet.length; i++) {
                double t = tNet[i] / 999;
                assertTrue(t >= 0 && t < 1, "network time is t * 999 with t in [0, 1)");
                // sde.py: cum_alpha(t) = exp(-(0.1 t + (20 - 0.1) t^2 / 2)); x_t = sqrt(cum_alpha) x0 + sqrt(1 - cum_alpha) eps
                double abar = Math.exp(-(0.1 * t + 19.9 * t * t / 2));
                double eps = (xt[i] - Math.sqrt(abar)) / Math.sqrt(1 - abar);
                assertEquals(eps * eps, losses[i], 1e-9 * Math.max(1, eps * eps), "loss at t = " + t);
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void autocastTrainingKeepsFloat32WeightsAndLearns() {
        long live = Torch.liveTensors();
        DiT.Config tiny = new DiT.Config("tiny", 2, 64, 4, 4, 4.0, 1, 16, 10, true, 0.1);
        var options = DiffusionTrainer.Options.dit().withLr(2e-3).withEmaDecay(0.9).withSeed(1).withAutocast(DType.BFLOAT16);
        try (DiT m = tiny.create(Device.CPU, 1); DiT e = tiny.create(Device.CPU, 2);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, options); Generator g = Generator.cpu(7);
             TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.rand(new long[] {16, 1, 16, 16}, DType.FLOAT32, Device.CPU, g).mul_(2).add_(-1);
            Tensor y = Tensor.randint(0, 10, new long[] {16}, Device.CPU, g);
            double first = 0, last = 0;
            for (int i = 0; i < 30; i++) {
                try (Tensor loss = trainer.trainStep(x, Conditioning.labels(y, 10))) {
                    assertEquals(DType.FLOAT32, loss.dtype());
                    double v = loss.item();
                    assertTrue(Double.isFinite(v), "finite loss at step " + i);
                    if (i < 5) first += v / 5;
                    if (i >= 25) last += v / 5;
                }
            }
            m.namedParameters().forEach((k, p) -> assertEquals(DType.FLOAT32, p.dtype(), k + " stays float32"));
            assertTrue(last < first, "loss falls under bf16 autocast: " + first + " -> " + last);
        }
        assertEquals(live, Torch.liveTensors());
    }
}
