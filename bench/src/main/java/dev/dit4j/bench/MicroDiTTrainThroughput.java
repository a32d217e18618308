package dev.dit4j.bench;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.Arrays;
import java.util.Locale;

/**
 * MicroDiT training-step throughput: MicroDiT_Tiny_2 on synthetic 32x32x4 latents (256 px) and 77
 * caption tokens of width 1024, the EDM loss of stage 1 with deferred masking at --mask-ratio,
 * gradient clipping to norm 0.5, AdamW (lr 2.4e-4, weight decay 0.1) and EMA 0.9999, float32, timed
 * in windows after a warm-up; prints one JSON line with img/s. The PyTorch side is
 * bench/microdit_train_reference.py; bench/compare-microdit-train.sh runs both, alternating.
 *
 * <p>Options: --mask-ratio 0.75 --batch 8 --warmup 1 --steps 1 --windows 3 --device cpu --model MicroDiT_Tiny_2
 * --autocast bfloat16 (default: none)
 */
public final class MicroDiTTrainThroughput {
    public static void main(String[] args) {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        double maskRatio = Double.parseDouble(a.get("mask-ratio", "0.75"));
        int batch = a.integer("batch", 8), warmup = a.integer("warmup", 1), steps = a.integer("steps", 1), windows = a.integer("windows", 3);
        Device device = Device.parse(a.get("device", "cpu"));
        MicroDiT.Config cfg = MicroDiT.PRESETS.get(a.get("model", "MicroDiT_Tiny_2"));
        String autocast = a.get("autocast", "none");
        DType amp = a.dtype("autocast", "none");
        DiffusionTrainer.Options options = DiffusionTrainer.Options.dit().withLr(2.4e-4).withWeightDecay(0.1).withGradClip(0.5)
                .withAutocast(amp);
        try (MicroDiT model = cfg.create(device, 0); MicroDiT ema = cfg.create(device, 0);
             DiffusionTrainer<MicroDiT> trainer = new DiffusionTrainer<>(model, ema, new EdmObjective(Edm.microDiT256(), maskRatio, cfg.patch()), options);
             Generator g = Generator.create(1, device); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.randn(new long[] {batch, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()}, DType.FLOAT32, device, g);
            Conditioning y = Conditioning.text(Tensor.randn(new long[] {batch, 77, cfg.captionChannels()}, DType.FLOAT32, device, g));
            double[] rates = StepWindows.rates(device, warmup, steps, windows, batch, () -> trainer.trainStep(x, y).close(), null);
            String peak = device.isCuda() ? Long.toString(Torch.memoryStats(device).peakAllocated()) : "null";
            System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"model\": \"%s\", \"batch\": %d, \"mask_ratio\": %s, \"device\": \"%s\", "
                            + "\"autocast\": \"%s\", \"threads\": %d, \"torch\": \"%s\", \"img_per_s\": %.3f, \"peak_alloc_bytes\": %s, \"windows\": %s}%n",
                    cfg.name(), batch, maskRatio, device, autocast, Torch.numThreads(), Torch.version(), StepWindows.median(rates), peak, Arrays.toString(rates));
        }
    }
}
