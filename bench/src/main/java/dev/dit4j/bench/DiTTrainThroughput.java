package dev.dit4j.bench;

import dev.dit4j.models.DiT;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.Arrays;

/**
 * DiT training-step throughput (forward, hybrid loss, backward, AdamW, EMA) on synthetic latents,
 * timed in windows after a warm-up; prints one JSON line. The PyTorch side is
 * bench/dit_train_reference.py; bench/compare-dit-train.sh runs both, alternating.
 *
 * <p>Arguments: preset batch warmupSteps stepsPerWindow windows [device]
 */
public final class DiTTrainThroughput {
    public static void main(String[] args) {
        String preset = args.length > 0 ? args[0] : "DiT-S/2";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        int windows = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        Device device = Device.parse(args.length > 5 ? args[5] : "cpu");
        DiT.Config cfg = DiT.preset(preset);
        try (DiT model = DiT.create(cfg, device, 0); DiT ema = DiT.create(cfg, device, 0);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(model, ema, DiffusionTrainer.Options.dit());
             Generator g = Generator.create(1, device); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.randn(new long[] {batch, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()}, DType.FLOAT32, device, g);
            Tensor y = Tensor.randint(0, cfg.numClasses(), new long[] {batch}, device, g);
            for (int i = 0; i < warmup; i++) trainer.trainStep(x, y).close();
            double[] rates = new double[windows];
            for (int w = 0; w < windows; w++) {
                Torch.synchronize(device);
                long start = System.nanoTime();
                for (int i = 0; i < steps; i++) trainer.trainStep(x, y).close();
                Torch.synchronize(device);
                rates[w] = steps * batch / ((System.nanoTime() - start) / 1e9);
            }
            Arrays.sort(rates);
            System.out.printf("{\"impl\": \"dit4j\", \"model\": \"%s\", \"batch\": %d, \"threads\": %d, \"img_per_s\": %.3f, \"windows\": %s}%n",
                    preset, batch, Torch.numThreads(), rates[windows / 2], Arrays.toString(rates));
        }
    }
}
