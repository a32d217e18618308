package example;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.*;
import java.util.Arrays;

/** Trains a tiny class-conditional DiT on random 16x16 images for a few steps, then samples two images. */
public class TinyDiT {
    public static void main(String[] args) {
        var config = new DiT.Config("tiny", 2, 64, 4, 4, 4.0, 1, 16, 10, true, 0.1); // depth, width, heads, patch, ..., classes
        try (TensorScope scope = TensorScope.open(); Generator g = Generator.cpu(0);
             DiT model = config.create(Device.CPU, 1); DiT ema = config.create(Device.CPU, 2);
             var trainer = new DiffusionTrainer<>(model, ema, DiffusionTrainer.Options.dit().withLr(1e-3));
             var sampler = GaussianSampler.ddpm(10)) {
            Tensor images = Tensor.rand(new long[] {8, 1, 16, 16}, DType.FLOAT32, Device.CPU, g).mul_(2).add_(-1);
            Tensor labels = Tensor.randint(0, 10, new long[] {8}, Device.CPU, g);
            for (int step = 1; step <= 5; step++) {
                System.out.printf("step %d: loss %.4f%n", step, trainer.trainStep(images, Conditioning.labels(labels, 10)).item());
            }
            Tensor noise = Tensor.randn(new long[] {2, 1, 16, 16}, DType.FLOAT32, Device.CPU, g);
            Tensor samples = sampler.sample(ema.guided(Conditioning.labels(labels.narrow(0, 0, 2), 10), 4.0), noise, g);
            System.out.println("sampled " + Arrays.toString(samples.shape()) + ", mean " + samples.mean().item());
        }
    }
}
