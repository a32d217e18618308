package dev.dit4j.bench;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.train.AdmObjective;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.optim.AdamW;
import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.management.ObjectName;

/**
 * Memory soak of the main job's DiT (depth 4, width 128, patch 4, 1x32x32, 10 classes, learned
 * sigma; the ADM objective, AdamW, EMA, labels as conditioning, as TrainDiT) on random data of
 * Fashion-MNIST's shape: trains {@code --train-steps} steps at batch 64, then runs
 * {@code --sample-steps} DDPM steps of the guided denoiser (guidance 3, batch 100), and every
 * {@code --every} steps prints resident memory (VmRSS), glibc malloc's bytes in use and held
 * free (mallinfo2), the JVM's native memory (NMT total committed, when
 * -XX:NativeMemoryTracking=summary is on) and Torch.liveTensors(). bench/memory-soak.sh runs it.
 *
 * <p>{@code --part forward|backward|optimizer|full} trains only that much of a step (to bisect a
 * growth): the loss with its graph; + backward and zeroGrad; + AdamW; the trainer's whole step
 * (+ EMA). {@code --readback 25} reads the loss to the host every 25 steps (0: never), as TrainDiT.
 * {@code --trim true} calls malloc_trim(0) before each reading, to tell memory glibc holds free
 * from memory in use.
 */
public final class MemorySoak {
    private static final int CLASSES = 10;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout MALLINFO2 = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(10, ValueLayout.JAVA_LONG)); // ten size_t fields
    private static final MethodHandle MALLINFO = LINKER.downcallHandle(LINKER.defaultLookup().find("mallinfo2").orElseThrow(),
            FunctionDescriptor.of(MALLINFO2));
    private static final MethodHandle MALLOC_TRIM = LINKER.downcallHandle(LINKER.defaultLookup().find("malloc_trim").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));

    private static final java.util.regex.Pattern MAPPING = java.util.regex.Pattern.compile("[0-9a-f]+-[0-9a-f]+ ");
    private static boolean smaps;
    private static java.util.Map<String, Long> lastMappings = java.util.Map.of();

    private MemorySoak() {}

    public static void main(String[] args) throws Throwable {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        int trainSteps = a.integer("train-steps", 10_000), sampleSteps = a.integer("sample-steps", 10_000);
        int every = a.integer("every", 1000), readback = a.integer("readback", 25), batch = a.integer("batch", 64);
        smaps = Boolean.parseBoolean(a.get("smaps", "false"));
        String part = a.get("part", "full");
        boolean trim = Boolean.parseBoolean(a.get("trim", "false"));
        if (!List.of("forward", "backward", "optimizer", "full").contains(part))
            throw new IllegalArgumentException("--part must be forward, backward, optimizer or full, got '" + part + "'");
        if (every <= 0) throw new IllegalArgumentException("--every must be positive, got " + every);
        if (a.values().containsKey("threads")) Torch.setNumThreads(a.integer("threads", 0));
        Device dev = Device.CPU;
        DiT.Config cfg = new DiT.Config("DiT-fashion", 4, 128, 2, 4, 4.0, 1, 32, CLASSES, true, 0.1); // FashionModels.DIT
        System.out.printf(Locale.ROOT, "# %s; torch %s, %d threads; part %s, readback every %d, trim %b%n", machine(),
                Torch.version(), Torch.numThreads(), part, readback, trim);
        System.out.println("phase     step   VmRSS_MB  malloc_used_MB  malloc_free_MB  jvm_native_MB  heap_used/committed_MB  alloc_KB/step  live_tensors  s");
        long start = System.nanoTime();
        try (DiT net = cfg.create(dev, 0); DiT emaNet = cfg.create(dev, 0); Generator g = Generator.create(7, dev);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(net, emaNet, new AdmObjective(),
                     DiffusionTrainer.Options.dit().withLr(1e-3).withEmaDecay(0.995));
             AdmObjective objective = new AdmObjective();
             AdamW adam = AdamW.of(List.copyOf(net.namedTrainableParameters().values()), 1e-3, 0)) {
            report("train", 0, trim, start);
            for (int i = 1; i <= trainSteps; i++) {
                try (TensorScope s = TensorScope.open()) {
                    Tensor x = Tensor.rand(new long[] {batch, 1, 32, 32}, DType.FLOAT32, dev, g).mul(2).sub(1);
                    Conditioning y = Conditioning.labels(Tensor.randint(0, CLASSES, new long[] {batch}, dev, g), CLASSES);
                    Tensor loss = switch (part) {
                        case "full" -> trainer.trainStep(x, y);
                        default -> partialStep(part, net, objective, adam, x, y, g);
                    };
                    if (readback > 0 && i % readback == 0) loss.item();
                }
                if (i % every == 0) report("train", i, trim, start);
            }
            emaNet.eval();
            long[] labels = new long[100];
            for (int i = 0; i < labels.length; i++) labels[i] = i / 10;
            try (TensorScope s = TensorScope.open(); GaussianSampler sampler = GaussianSampler.ddpm(every)) {
                Conditioning y = Conditioning.labels(Tensor.of(labels, 100), CLASSES);
                var denoiser = emaNet.guided(y, 3.0);
                report("sample", 0, trim, start);
                for (int done = every; done <= sampleSteps; done += every) { // one sample() call is `every` DDPM steps
                    try (TensorScope inner = TensorScope.open()) {
                        sampler.sample(denoiser, Tensor.randn(new long[] {100, 1, 32, 32}, DType.FLOAT32, dev, g), g);
                    }
                    report("sample", done, trim, start);
                }
            }
        }
        report("closed", trainSteps, trim, start);
    }

    /** The first part of a training step, the way DiffusionTrainer does it. */
    private static Tensor partialStep(String part, DiT net, AdmObjective objective, AdamW adam, Tensor x, Conditioning y, Generator g) {
        Tensor loss = objective.losses((xt, t) -> net.forward(xt, t, y), x, g).mean();
        if (part.equals("forward")) return loss;
        loss.backward();
        if (part.equals("optimizer")) adam.step();
        net.zeroGrad();
        return loss.detach();
    }

    private static long lastStep, lastAllocated;

    private static void report(String phase, long step, boolean trim, long start) throws Throwable {
        if (trim) {
            int ignored = (int) MALLOC_TRIM.invokeExact(0L);
        }
        MemorySegment info = (MemorySegment) MALLINFO.invokeExact((java.lang.foreign.SegmentAllocator) java.lang.foreign.Arena.ofAuto());
        long used = info.getAtIndex(ValueLayout.JAVA_LONG, 7) + info.getAtIndex(ValueLayout.JAVA_LONG, 4); // uordblks + hblkhd (mmapped)
        long free = info.getAtIndex(ValueLayout.JAVA_LONG, 8); // fordblks
        var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        long allocated = ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
        String perStep = step > lastStep ? String.format(Locale.ROOT, "%.1f", (allocated - lastAllocated) / 1e3 / (step - lastStep)) : "-";
        lastStep = step;
        lastAllocated = allocated;
        System.out.printf(Locale.ROOT, "%-7s %6d %10.1f %15.1f %15.1f %14s %11.1f/%-11.1f %14s %13d %4.0f%n", phase, step, status("VmRSS") / 1e6,
                used / 1e6, free / 1e6, jvmNative(), heap.getUsed() / 1e6, heap.getCommitted() / 1e6, perStep, Torch.liveTensors(),
                (System.nanoTime() - start) / 1e9);
        if (smaps) growingMappings();
    }

    /** Prints the mappings of /proc/self/smaps whose resident size grew most since the last reading. */
    private static void growingMappings() throws IOException {
        java.util.Map<String, Long> now = new java.util.HashMap<>();
        String key = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (MAPPING.matcher(line).lookingAt()) { // "start-end perms offset dev inode [name]"; keyed by start, as brk grows the end
                String[] f = line.trim().split("\\s+", 6);
                key = f[0].substring(0, f[0].indexOf('-')) + " " + f[1] + " " + (f.length > 5 ? f[5] : "[anon]");
            } else if (line.startsWith("Rss:") && key != null) {
                now.put(key, Long.parseLong(line.substring(4).trim().split("\\s+")[0]));
            }
        }
        if (!lastMappings.isEmpty()) {
            now.entrySet().stream().map(e -> java.util.Map.entry(e.getKey(), e.getValue() - lastMappings.getOrDefault(e.getKey(), 0L)))
                    .filter(e -> e.getValue() != 0).sorted((x, y) -> Long.compare(Math.abs(y.getValue()), Math.abs(x.getValue()))).limit(6)
                    .forEach(e -> System.out.printf(Locale.ROOT, "    %+8d kB  %s%n", e.getValue(), e.getKey()));
        }
        lastMappings = now;
    }

    /** NMT's "Total: reserved=..., committed=..." in MB, or "-" when tracking is off. */
    private static String jvmNative() {
        try {
            String out = (String) ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "vmNativeMemory", new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            var m = java.util.regex.Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB").matcher(out);
            return m.find() ? String.format(Locale.ROOT, "%.1f", Long.parseLong(m.group(2)) / 1e3) : "-";
        } catch (Exception e) {
            return "-";
        }
    }

    /** A field of /proc/self/status in bytes. */
    private static long status(String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(name + ":")) return Long.parseLong(line.substring(name.length() + 1).trim().split("\\s+")[0]) * 1024;
        }
        throw new IllegalStateException("no " + name + " in /proc/self/status");
    }

    private static String machine() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown cpu");
        return String.format(Locale.ROOT, "%s, %d cores; JDK %s; %s", cpu, Runtime.getRuntime().availableProcessors(),
                Runtime.version(), java.time.ZonedDateTime.now().format(java.time.format.DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    }
}
