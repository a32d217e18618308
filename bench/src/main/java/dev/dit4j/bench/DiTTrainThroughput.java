package dev.dit4j.bench;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.GraphedTrainStep;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.DeviceProfile;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.SdpaBackend;
import dev.dit4j.nn.FlopCounter;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.Arrays;
import java.util.Locale;

/**
 * DiT training-step throughput (forward, hybrid loss, backward, fused AdamW, EMA) on synthetic
 * latents, timed in windows after a warm-up; prints one JSON line with img/s, model FLOP
 * utilisation and, on CUDA, peak memory, device kernels per step (libtorch's profiler, counted as
 * torch.profiler counts) and the attention kernel libtorch picks for the model's shape. With
 * --pinned, each step's batch comes from pinned host memory by a non-blocking copy, as from a
 * data loader. With --graph, the step is captured once in a CUDA graph and replayed
 * ({@link GraphedTrainStep}; the capture comes before the warm-up). The PyTorch side is
 * bench/dit_train_reference.py; bench/compare-dit-train.sh and bench/gpu-harness.sh run both,
 * alternating.
 *
 * <p>On a CPU, freed tensor memory is kept for the next tensor as dit4j's commands keep it
 * ({@link Torch#cacheCpuMemory}, up to --cache-mib, default 1024; 0: malloc's own behaviour).
 *
 * <p>Options: --model DiT-S/2 --batch 8 --warmup 3 --steps 5 --windows 3 --device cpu --cache-mib 1024
 * --autocast bfloat16 (default: none) --peak-tflops 989 (for MFU; default: none) --pinned true|false
 * --graph true|false
 */
public final class DiTTrainThroughput {
    public static void main(String[] args) {
        Args a = new Args(args);
        String preset = a.get("model", "DiT-S/2");
        int batch = a.integer("batch", 8), warmup = a.integer("warmup", 3), steps = a.integer("steps", 5), windows = a.integer("windows", 3);
        Device device = Device.parse(a.get("device", "cpu"));
        String autocast = a.get("autocast", "none");
        DType amp = a.dtype("autocast", "none");
        double peakTflops = Double.parseDouble(a.get("peak-tflops", "0"));
        boolean pinned = Boolean.parseBoolean(a.get("pinned", "false")) && device.isCuda(); // pinned memory serves copies to a GPU
        boolean graph = Boolean.parseBoolean(a.get("graph", "false"));
        if (!device.isCuda()) Torch.cacheCpuMemory((long) a.integer("cache-mib", 1024) << 20);
        DiT.Config cfg = DiT.PRESETS.get(preset);
        DiffusionTrainer.Options options = DiffusionTrainer.Options.dit().withAutocast(amp);
        try (DiT model = cfg.create(device, 0); DiT ema = cfg.create(device, 0);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(model, ema, options);
             Generator g = Generator.create(1, device); TensorScope s = TensorScope.open()) {
            double flopsPerImage = 3 * 2.0 * forwardMacs(model, cfg, device); // forward + backward (2x), 2 FLOPs per MAC
            Batch data = new Batch(cfg, batch, device, pinned);
            try (GraphedTrainStep graphed = graph ? data.capture(trainer) : null) {
                Runnable step = graph ? () -> data.step(graphed) : () -> data.step(trainer);
                report(preset, cfg, batch, device, autocast, amp, peakTflops, pinned, graph, flopsPerImage,
                        StepWindows.rates(device, warmup, steps, windows, batch, step, null), step);
            }
        }
    }

    private static void report(String preset, DiT.Config cfg, int batch, Device device, String autocast, DType amp, double peakTflops,
                               boolean pinned, boolean graph, double flopsPerImage, double[] rates, Runnable step) {
        String kernels = "null", attention = "null";
        if (device.isCuda()) {
            Torch.synchronize(device);
            try (DeviceProfile p = DeviceProfile.start(device)) {
                step.run();
                Torch.synchronize(device);
                DeviceProfile.Summary profile = p.stop();
                kernels = Long.toString(profile.kernels() + profile.copies()); // device events, as torch.profiler counts them
                System.err.printf(Locale.ROOT, "dit4j: one training step, %d kernels and %d copies/fills, %.1f ms of device time; by time:%n%s",
                        profile.kernels(), profile.copies(), profile.deviceNanos() / 1e6, profile.topKernels());
            }
            attention = "\"" + attentionBackend(cfg, batch, device, amp) + "\"";
        }
        double rate = StepWindows.median(rates);
        String mfu = peakTflops > 0 ? String.format(Locale.ROOT, "%.4f", rate * flopsPerImage / (peakTflops * 1e12)) : "null";
        String peak = device.isCuda() ? Long.toString(Torch.memoryStats(device).peakAllocated()) : "null";
        System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"model\": \"%s\", \"batch\": %d, \"device\": \"%s\", \"autocast\": \"%s\", "
                        + "\"threads\": %d, \"torch\": \"%s\", \"img_per_s\": %.3f, \"train_flops_per_img\": %.4e, \"mfu\": %s, "
                        + "\"peak_alloc_bytes\": %s, \"kernels_per_step\": %s, \"attention\": %s, \"pinned\": %b, \"graph\": %b, \"windows\": %s}%n",
                preset, batch, device, autocast, Torch.numThreads(), Torch.version(), rate, flopsPerImage, mfu, peak, kernels, attention,
                pinned, graph, Arrays.toString(rates));
    }

    /** The synthetic batch: on the device, or in pinned host memory copied over without blocking each step. */
    private record Batch(Tensor x, Tensor labels, Device device, boolean pinned, int numClasses) {
        Batch(DiT.Config cfg, int batch, Device device, boolean pinned) {
            this(makeX(cfg, batch, device, pinned), makeLabels(cfg, batch, device, pinned), device, pinned, cfg.numClasses());
        }

        private static Tensor makeX(DiT.Config cfg, int batch, Device device, boolean pinned) {
            long[] shape = {batch, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()};
            try (Generator g = Generator.create(1, Device.CPU); Tensor host = Tensor.randn(shape, DType.FLOAT32, Device.CPU, g)) {
                return TensorScope.release(pinned ? host.pinMemory() : host.to(device));
            }
        }

        private static Tensor makeLabels(DiT.Config cfg, int batch, Device device, boolean pinned) {
            try (Generator g = Generator.create(2, Device.CPU);
                 Tensor host = Tensor.randint(0, cfg.numClasses(), new long[] {batch}, Device.CPU, g)) {
                return TensorScope.release(pinned ? host.pinMemory() : host.to(device));
            }
        }

        /** The step captured on this batch (trains its warm-up steps on it). */
        GraphedTrainStep capture(DiffusionTrainer<DiT> trainer) {
            try (TensorScope s = TensorScope.open()) {
                return trainer.graphed(x.to(device), Conditioning.labels(labels.to(device), numClasses));
            }
        }

        void step(GraphedTrainStep graphed) {
            try (TensorScope s = TensorScope.open()) {
                Tensor x0 = pinned ? x.toNonBlocking(device) : x;
                Tensor y = pinned ? labels.toNonBlocking(device) : labels;
                graphed.run(x0, Conditioning.labels(y, numClasses)).close();
            }
        }

        void step(DiffusionTrainer<DiT> trainer) {
            try (TensorScope s = TensorScope.open()) {
                Tensor x0 = pinned ? x.toNonBlocking(device) : x;
                Tensor y = pinned ? labels.toNonBlocking(device) : labels;
                trainer.trainStep(x0, Conditioning.labels(y, numClasses)).close();
            }
        }
    }

    /** The attention kernel libtorch picks for the model's attention inputs ([B, heads, tokens, head dim], autocast dtype). */
    private static String attentionBackend(DiT.Config cfg, int batch, Device device, DType amp) {
        long tokens = (long) (cfg.inputSize() / cfg.patch()) * (cfg.inputSize() / cfg.patch());
        long[] shape = {batch, cfg.heads(), tokens, cfg.hidden() / cfg.heads()};
        DType dtype = amp == null ? DType.FLOAT32 : amp;
        try (TensorScope s = TensorScope.open()) {
            Tensor q = Tensor.zeros(shape, dtype, device).requiresGrad(true);
            try (Functional.Attention a = Functional.scaledDotProductAttention(q, q, q, null, 0, false, 0, SdpaBackend.AUTO)) {
                return a.backend() + " " + Arrays.toString(shape).replace(" ", "") + " " + dtype;
            }
        }
    }

    /** Multiply-accumulates of one batch-1 forward, counted on the ops that run. */
    private static long forwardMacs(DiT model, DiT.Config cfg, Device device) {
        try (TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad(); FlopCounter c = FlopCounter.start()) {
            model.forward(Tensor.zeros(new long[] {1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize()}, DType.FLOAT32, device),
                    Tensor.zeros(new long[] {1}, DType.FLOAT32, device), Tensor.zeros(new long[] {1}, DType.INT64, device));
            return c.macs();
        }
    }

    /** --name value pairs. */
    record Args(java.util.Map<String, String> values) {
        Args(String[] args) {
            this(parse(args));
        }

        private static java.util.Map<String, String> parse(String[] args) {
            java.util.Map<String, String> m = new java.util.HashMap<>();
            for (int i = 0; i < args.length; i++) {
                if (!args[i].startsWith("--") || i + 1 >= args.length)
                    throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
                m.put(args[i].substring(2), args[++i]);
            }
            return m;
        }

        String get(String name, String fallback) {
            return values.getOrDefault(name, fallback);
        }

        int integer(String name, int fallback) {
            return Integer.parseInt(get(name, Integer.toString(fallback)));
        }

        /** A dtype by name (bfloat16, float32, ...), or null for "none" (e.g. --autocast none). */
        DType dtype(String name, String fallback) {
            String v = get(name, fallback);
            return v.equals("none") ? null : DType.valueOf(v.toUpperCase(Locale.ROOT));
        }
    }
}
