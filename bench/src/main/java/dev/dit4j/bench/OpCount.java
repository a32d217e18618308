package dev.dit4j.bench;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.DeviceProfile;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;
import java.util.Locale;

/**
 * ATen operators per step of DiT-XL/2's width at a reduced depth, as libtorch's profiler records
 * them on the host: "top", the top-level ones ({@link DeviceProfile.Summary#topLevelAtenOps}), and
 * "all", nested ones included ({@link DeviceProfile.Summary#atenOps}); bench/op_count_reference.py
 * counts the authors' model in PyTorch eager alike. bench/count-ops.sh runs both.
 *
 * <p>train: one training step after a warm-up step (hybrid loss, backward, fused AdamW, EMA).
 * sample: one guided DDPM step as DiT's sample.py takes it ([z; z] with labels [y; null], EMA
 * weights in eval mode): the count of a 3-step sample minus that of a 2-step one.
 *
 * <p>Options: --depth 2 --batch 2 --cfg 4
 */
public final class OpCount {
    public static void main(String[] args) {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        int batch = a.integer("batch", 2);
        double cfg = Double.parseDouble(a.get("cfg", "4"));
        DiT.Config config = DiT.XL_2.withDepth(a.integer("depth", 2));
        Device cpu = Device.CPU;
        try (DiT model = config.create(cpu, 0); DiT ema = config.create(cpu, 0);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(model, ema, DiffusionTrainer.Options.dit());
             Generator g = Generator.create(1, cpu); TensorScope s = TensorScope.open()) {
            Tensor x = Tensor.randn(new long[] {batch, config.inChannels(), config.inputSize(), config.inputSize()}, DType.FLOAT32, cpu, g);
            Tensor y = Tensor.randint(0, config.numClasses(), new long[] {batch}, cpu, g);
            Conditioning labels = Conditioning.labels(y, config.numClasses());
            trainer.trainStep(x, labels).close(); // the first step creates the optimizer's state
            Ops train = atenOps(() -> trainer.trainStep(x, labels).close());
            ema.eval();
            Denoiser guided = ema.guided(labels, cfg).doubled();
            Tensor z = Tensor.cat(List.of(x, x), 0);
            Ops sampleStep = atenOps(() -> sample(guided, z, 3, g)).minus(atenOps(() -> sample(guided, z, 2, g)));
            System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"depth\": %d, \"hidden\": %d, \"batch\": %d, \"train_ops\": %s, \"sample_step_ops\": %s}%n",
                    config.depth(), config.hidden(), batch, train, sampleStep);
        }
    }

    private static void sample(Denoiser model, Tensor z, int steps, Generator g) {
        try (GaussianSampler sampler = GaussianSampler.ddpm(steps)) {
            sampler.sample(model, z, g).close();
        }
    }

    private static Ops atenOps(Runnable step) {
        try (TensorScope s = TensorScope.open(); DeviceProfile p = DeviceProfile.start(Device.CPU)) {
            step.run();
            DeviceProfile.Summary counts = p.stop();
            return new Ops(counts.topLevelAtenOps(), counts.atenOps());
        }
    }

    /** The top-level and all ATen operators of a region. */
    private record Ops(long top, long all) {
        Ops minus(Ops o) {
            return new Ops(top - o.top, all - o.all);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "{\"top\": %d, \"all\": %d}", top, all);
        }
    }
}
