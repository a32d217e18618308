package dev.dit4j.models.flow;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import org.junit.jupiter.api.Test;

/**
 * Data prediction on SiT's transport (JiT's x-prediction with its v-loss): the loss against the
 * velocity written out by hand for the Linear path, (x1_hat - x_t) / max(1 - t, 0.05), and the
 * ODE of a network that always predicts one point, which must carry noise onto that point (to
 * within what the held sigma leaves of the last step).
 */
class DataPredictionTest {
    private static Tensor random(long seed, long... shape) {
        try (Generator g = Generator.cpu(seed)) {
            return Tensor.randn(shape, DType.FLOAT64, Device.CPU, g);
        }
    }

    @Test
    void theLossIsTheVelocityLossOfTheImpliedVelocity() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Tensor x1 = random(1, 3, 2, 4, 4), x0 = random(2, 3, 2, 4, 4), guess = random(3, 3, 2, 4, 4);
            Tensor t = Tensor.of(new double[] {0.1, 0.6, 0.99}, 3);
            Denoiser net = (xt, tt) -> guess.add(xt.mul(0.25)); // depends on its input, as a network does
            Transport data = Transport.create(Transport.Path.LINEAR, Transport.Prediction.DATA, Transport.LossWeight.NONE, null, null,
                    Transport.TimeSampling.UNIFORM);
            double[] got = new TransportObjective(data).losses(net, x1, x0, t).toDoubleArray();
            double[] times = t.toDoubleArray();
            for (int i = 0; i < 3; i++) {
                Tensor a = x1.select(0, i), b = x0.select(0, i);
                Tensor xt = a.mul(times[i]).add(b.mul(1 - times[i]));
                Tensor velocity = guess.select(0, i).add(xt.mul(0.25)).sub(xt).div(Math.max(1 - times[i], Transport.DATA_SIGMA_MIN));
                double want = velocity.sub(a.sub(b)).square().mean().item();
                assertEquals(want, got[i], 1e-12 * want, "sample " + i + " at t " + times[i]);
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void theOdeOfAConstantPredictionEndsOnIt() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Tensor target = random(4, 2, 3, 8, 8).to(DType.FLOAT32), noise = random(5, 2, 3, 8, 8).to(DType.FLOAT32);
            Transport data = Transport.create(Transport.Path.LINEAR, Transport.Prediction.DATA, Transport.LossWeight.NONE, null, null,
                    Transport.TimeSampling.UNIFORM);
            for (TransportSampler.Method method : new TransportSampler.Method[] {TransportSampler.Method.EULER, TransportSampler.Method.HEUN}) {
                try (TransportSampler sampler = new TransportSampler(data, TransportSampler.Options.ode(method, 25)); Generator g = Generator.cpu(0)) {
                    Tensor x = sampler.sample((xt, tt) -> target.mul(1), noise, g);
                    double rel = x.sub(target).norm(2, null, false).item() / target.norm(2, null, false).item();
                    assertTrue(rel < 0.05, method + ": relative L2 distance to the predicted point " + rel);
                }
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void dataIsAPredictionByName() {
        assertEquals(Transport.Prediction.DATA, Transport.Prediction.parse("data"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transport.Prediction.parse("x0"));
        assertTrue(e.getMessage().contains("velocity, score, noise or data"), e.getMessage());
        Transport data = Transport.fromMetadata(Transport.create(Transport.Path.LINEAR, Transport.Prediction.DATA, Transport.LossWeight.NONE, null, null,
                Transport.TimeSampling.UNIFORM).metadata());
        assertEquals(Transport.Prediction.DATA, data.prediction(), "a checkpoint records it");
        assertEquals("Linear path, data prediction, uniform time", data.describe());
    }
}
