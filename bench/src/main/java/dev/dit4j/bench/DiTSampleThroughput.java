package dev.dit4j.bench;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.nn.Autocast;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Guided DDPM sampling throughput as DiT's sample.py runs it: [z; z] with labels [y; null],
 * forward_with_cfg (guidance on 3 channels), respaced steps, EMA weights in eval mode. Prints one
 * JSON line with seconds per image. --mode graph replays each step from a CUDA graph
 * (GaussianSampler.sampleWithCudaGraph); its time includes the capture (two warm-up steps, the
 * captured step and the graph's instantiation), made afresh for each batch.
 *
 * <p>On a CPU, freed tensor memory is kept for the next tensor as dit4j's commands keep it
 * ({@link Torch#cacheCpuMemory}, up to --cache-mib, default 1024; 0: malloc's own behaviour).
 *
 * <p>Options: --model DiT-XL/2 --batch 1,64 --steps 250 --cfg 4 --device cpu --autocast bfloat16|none --repeats 2 --cache-mib 1024
 * --mode eager,graph (lists: one line per batch and mode, one model) --weights float32|bfloat16 (bfloat16:
 * the model's weights and inputs in bfloat16 instead of autocast; the sampler's arithmetic stays float32)
 */
public final class DiTSampleThroughput {
    public static void main(String[] args) {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        String preset = a.get("model", "DiT-S/2");
        int steps = a.integer("steps", 250), repeats = a.integer("repeats", 2);
        List<Integer> batches = Arrays.stream(a.get("batch", "4").split(",")).map(Integer::parseInt).toList();
        List<String> modes = List.of(a.get("mode", "eager").split(","));
        for (String m : modes) if (!m.equals("eager") && !m.equals("graph")) throw new IllegalArgumentException("--mode is eager or graph, not " + m);
        double cfg = Double.parseDouble(a.get("cfg", "4"));
        Device device = Device.parse(a.get("device", "cpu"));
        String autocast = a.get("autocast", "none");
        DType amp = a.dtype("autocast", "none");
        DType weights = a.dtype("weights", "float32");
        if (weights != DType.FLOAT32 && amp != null) throw new IllegalArgumentException("--weights " + weights + " replaces --autocast: give one");
        if (!device.isCuda()) Torch.cacheCpuMemory((long) a.integer("cache-mib", 1024) << 20);
        DiT.Config c = DiT.PRESETS.get(preset);
        try (DiT model = c.create(weights, device, 0); GaussianSampler sampler = GaussianSampler.ddpm(steps);
             Generator g = Generator.create(0, device)) {
            model.eval();
            for (int batch : batches) {
                for (String mode : modes) {
                    double best = time(model, weights, c, sampler, g, batch, mode, repeats, cfg, device, amp);
                    System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"model\": \"%s\", \"batch\": %d, \"steps\": %d, \"cfg\": %.2f, "
                                    + "\"device\": \"%s\", \"autocast\": \"%s\", \"weights\": \"%s\", \"mode\": \"%s\", "
                                    + "\"seconds_per_batch\": %.4f, \"seconds_per_image\": %.5f}%n",
                            preset, batch, steps, cfg, device, autocast, weights.name().toLowerCase(Locale.ROOT), mode, best, best / batch);
                }
            }
        }
    }

    /** The best of {@code repeats} timed runs after one warm-up run (kernels, allocator, cuBLAS plans). */
    private static double time(DiT model, DType weights, DiT.Config c, GaussianSampler sampler, Generator g, int batch, String mode, int repeats,
                               double cfg, Device device, DType amp) {
        try (TensorScope s = TensorScope.open()) {
            Tensor y = Tensor.randint(0, c.numClasses(), new long[] {batch}, device, g);
            Tensor yBoth = Tensor.cat(List.of(y, Tensor.full(c.numClasses(), new long[] {batch}, DType.INT64, device)), 0);
            Denoiser denoiser = (x, t) -> guided(model, weights, x, t, yBoth, cfg, device, amp);
            double best = Double.MAX_VALUE;
            for (int r = 0; r <= repeats; r++) {
                try (TensorScope run = TensorScope.open()) {
                    Tensor z = Tensor.randn(new long[] {batch, c.inChannels(), c.inputSize(), c.inputSize()}, DType.FLOAT32, device, g);
                    Tensor zz = Tensor.cat(List.of(z, z), 0);
                    Torch.synchronize(device);
                    long start = System.nanoTime();
                    if (mode.equals("graph")) sampler.sampleWithCudaGraph(denoiser, zz, g);
                    else sampler.sample(denoiser, zz, g);
                    Torch.synchronize(device);
                    if (r > 0) best = Math.min(best, (System.nanoTime() - start) / 1e9);
                }
            }
            return best;
        }
    }

    /** The guided model output in float32: under autocast, or with the model's own (e.g. bfloat16) weights. */
    private static Tensor guided(DiT model, DType weights, Tensor x, Tensor t, Tensor yBoth, double cfg, Device device, DType amp) {
        try (TensorScope s = TensorScope.open()) {
            Denoiser doubled = model.guided(Conditioning.labels(yBoth.narrow(0, 0, yBoth.size(0) / 2), model.config().numClasses()), cfg).doubled();
            if (amp == null) return s.keep(doubled.apply(x.to(weights), t).to(DType.FLOAT32));
            try (Autocast.Region r = Autocast.enable(device, amp)) {
                return s.keep(doubled.apply(x, t).to(DType.FLOAT32));
            }
        }
    }
}
