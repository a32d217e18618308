package dev.dit4j.models.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** FID every K steps from a feature map, a reference and a sampler: the plumbing against a direct computation. */
class FidHookTest {
    /** mean and n - 1 covariance of the rows of x [N, d], in double, written out. */
    static FeatureStatistics direct(Tensor x, String source) {
        double[] v = x.to(Device.CPU, DType.FLOAT64).contiguous().toDoubleArray();
        int n = (int) x.size(0), d = (int) x.size(1);
        double[] mu = new double[d], sigma = new double[d * d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mu[j] += v[i * d + j] / n;
        for (int i = 0; i < n; i++) {
            for (int a = 0; a < d; a++) for (int b = 0; b < d; b++) sigma[a * d + b] += (v[i * d + a] - mu[a]) * (v[i * d + b] - mu[b]) / (n - 1);
        }
        return new FeatureStatistics(mu, sigma, n, source);
    }

    @Test
    void readsTheDistanceOfEachSampleSetToTheReference() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.create(3, Device.CPU)) {
            // "images" [N, 2, 3, 3] and a feature map: a fixed projection to 5 features, then tanh
            Tensor w = Tensor.randn(new long[] {18, 5}, DType.FLOAT32, Device.CPU, g);
            UnaryOperator<Tensor> features = x -> x.flatten(1, 3).matmul(w).tanh();
            Tensor real = Tensor.randn(new long[] {40, 2, 3, 3}, DType.FLOAT32, Device.CPU, g);
            FeatureStatistics ref = FidHook.statistics(features, real, 7, "real");
            FeatureStatistics expectedRef = direct(features.apply(real), "real");
            assertEquals(40, ref.count());
            for (int i = 0; i < 5; i++) assertEquals(expectedRef.mu()[i], ref.mu()[i], 1e-6);
            for (int i = 0; i < 25; i++) assertEquals(expectedRef.sigma()[i], ref.sigma()[i], 1e-6);
            assertEquals(0, FrechetDistance.between(ref, expectedRef), 1e-6, "the same set");

            // samples drift towards the real set as the "model" trains: each call draws a new set
            List<Tensor> drawn = new ArrayList<>();
            List<FidHook.Reading> heard = new ArrayList<>();
            FidHook hook = new FidHook(features, ref, step -> {
                Tensor x = Tensor.randn(new long[] {30, 2, 3, 3}, DType.FLOAT32, Device.CPU, g).add(3.0 / step);
                drawn.add(TensorScope.release(x.clone()));
                return x;
            }, 4, heard::add);
            hook.accept(1);
            hook.accept(10);
            FidHook.Reading last = hook.measure(100);
            assertEquals(List.of(1L, 10L, 100L), hook.readings().stream().map(FidHook.Reading::step).toList());
            assertEquals(hook.readings(), heard);
            assertEquals(last, heard.get(2));
            for (int i = 0; i < 3; i++) {
                double expected = FrechetDistance.between(direct(features.apply(drawn.get(i)), "samples"), expectedRef);
                assertEquals(expected, hook.readings().get(i).fid(), 1e-6 * Math.max(1, expected), "reading " + i);
            }
            assertTrue(hook.readings().get(0).fid() > hook.readings().get(2).fid(), "the shifted set is further: " + hook.readings());
            drawn.forEach(Tensor::close);

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FidHook.statistics(x -> x.flatten(0, 3), real, 8, "flat"));
            assertTrue(e.getMessage().contains("[B, d]"), e.getMessage());
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
