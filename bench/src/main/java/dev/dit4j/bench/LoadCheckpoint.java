package dev.dit4j.bench;

import dev.dit4j.models.DiT;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Wall time and peak resident memory of loading DiT-XL/2 (675M float32 parameters, 2.7 GB) from a
 * weights file with {@code DiT.XL_2.load(file, Device.CPU)}. Peak RSS is per process, so run one
 * load per JVM; the weights live off-heap, so a small heap ({@code -Xmx2g}) is enough.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -Xmx2g -cp bench/target/benchmarks.jar dev.dit4j.bench.LoadCheckpoint \
 *     --file /tmp/loadbench/dit-xl-2.safetensors --write-safetensors      (or --file ....pt --write-pt)
 * java --enable-native-access=ALL-UNNAMED -Xmx2g -cp bench/target/benchmarks.jar dev.dit4j.bench.LoadCheckpoint \
 *     --file /tmp/loadbench/dit-xl-2.safetensors                           (one load per JVM)
 * </pre>
 *
 * <p>Without a write flag it prints the machine, the file's size, the peak RSS (VmHWM) before
 * loading (the JVM and libtorch, a fixed cost), the load's wall time, the peak RSS after it and
 * that peak's ratio to the file's size, then a checksum (the sum of every tensor of the state
 * dict) to compare with the one the write printed. See bench/RESULTS.md.
 */
public final class LoadCheckpoint {
    private LoadCheckpoint() {}

    public static void main(String[] args) throws IOException {
        Path file = null;
        String write = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--file" -> file = Path.of(args[++i]);
                case "--write-safetensors", "--write-pt" -> write = args[i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: --file PATH [--write-safetensors | --write-pt]");
            }
        }
        if (file == null) throw new IllegalArgumentException("usage: --file PATH [--write-safetensors | --write-pt]");
        machine();
        if (write != null) {
            write(file, write.equals("--write-pt"));
        } else {
            load(file);
        }
    }

    private static void write(Path file, boolean pt) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        long start = System.nanoTime();
        try (DiT model = DiT.XL_2.create(Device.CPU, 0)) {
            double created = seconds(start);
            Map<String, Tensor> state = model.stateDict();
            start = System.nanoTime();
            if (pt) {
                TorchCheckpoint.write(file, new LinkedHashMap<>(state));
            } else {
                Safetensors.save(file, state);
            }
            System.out.printf(Locale.ROOT, "wrote %s: %d bytes, %d tensors, %d parameters (create %.2f s, write %.2f s)%n", file,
                    Files.size(file), state.size(), model.parameterCount(), created, seconds(start));
            System.out.printf(Locale.ROOT, "checksum: %.6e%n", checksum(state));
        }
    }

    private static void load(Path file) throws IOException {
        long size = Files.size(file);
        // load libtorch and the shim, so that the baseline holds everything but the weights
        try (Tensor warm = Tensor.zeros(new long[] {4}, DType.FLOAT32, Device.CPU)) {
            warm.sum().close();
        }
        long baseline = status("VmHWM");
        System.out.printf(Locale.ROOT, "file: %s, %d bytes (%.3f GB)%n", file, size, size / 1e9);
        System.out.printf(Locale.ROOT, "peak RSS before loading (JVM + libtorch): %.1f MB%n", baseline / 1e6);
        long start = System.nanoTime();
        try (DiT model = DiT.XL_2.load(file, Device.CPU)) {
            double took = seconds(start);
            long peak = status("VmHWM");
            long now = status("VmRSS");
            System.out.printf(Locale.ROOT, "load: %.2f s (DiT.XL_2.load), %d parameters%n", took, model.parameterCount());
            System.out.printf(Locale.ROOT, "peak RSS: %.1f MB (VmHWM); RSS after loading %.1f MB (VmRSS)%n", peak / 1e6, now / 1e6);
            System.out.printf(Locale.ROOT, "peak RSS / file size: %.3f (less the baseline: %.3f)%n", (double) peak / size,
                    (double) (peak - baseline) / size);
            System.out.printf(Locale.ROOT, "checksum: %.6e%n", checksum(model.stateDict()));
        }
    }

    /** The sum of every tensor, to see that a load read what the write wrote. */
    private static double checksum(Map<String, Tensor> state) {
        double sum = 0;
        for (Tensor t : state.values()) {
            try (TensorScope scope = TensorScope.open()) { // one tensor's temporaries at a time
                sum += t.detach().to(DType.FLOAT64).sum().item();
            }
        }
        return sum;
    }

    private static void machine() throws IOException {
        String cpu = "unknown";
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                cpu = line.substring(line.indexOf(':') + 1).trim();
                break;
            }
        }
        System.out.printf(Locale.ROOT, "machine: %s, %d cores, %.1f GiB; JDK %s (%s); %s%n", cpu,
                Runtime.getRuntime().availableProcessors(), memTotal() / (double) (1L << 30), Runtime.version(),
                System.getProperty("java.vm.vendor"), ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    }

    private static long memTotal() throws IOException {
        return field(Files.readAllLines(Path.of("/proc/meminfo")), "MemTotal");
    }

    /** A field of /proc/self/status in bytes (VmHWM: the peak resident set; VmRSS: the current one). */
    static long status(String name) throws IOException {
        return field(Files.readAllLines(Path.of("/proc/self/status")), name);
    }

    private static long field(List<String> lines, String name) {
        for (String line : lines) {
            if (line.startsWith(name + ":")) {
                String[] parts = line.substring(name.length() + 1).trim().split("\\s+");
                return Long.parseLong(parts[0]) * 1024; // reported in kB
            }
        }
        throw new IllegalStateException("no " + name + " in /proc");
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
