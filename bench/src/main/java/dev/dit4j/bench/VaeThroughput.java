package dev.dit4j.bench;

import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.models.vae.Chunking;
import dev.dit4j.models.vae.DiagonalGaussian;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * SD-VAE (the real KL-f8 configuration, random weights) throughput as U-ViT's autoencoder code
 * runs it: encode_moments and decode of one batch, best of --repeats after a warm-up. Prints one
 * JSON line. With --memory SIZE it instead decodes one SIZE x SIZE image once (tiled with
 * --tile PX) and reports the process's peak resident memory (VmHWM) above what it held before.
 *
 * <p>Freed CPU tensor memory is kept for the next tensor ({@link Torch#cacheCpuMemory}, up to
 * --cache-mib, default 1024; 0 keeps none, malloc's own behaviour). Minor page faults per image
 * are reported beside the times.
 *
 * <p>Options: --size 256 --batch 1 --repeats 2 --threads N --device cpu --dtype float32|bfloat16 (weights and inputs)
 * --cache-mib 1024 | --memory 1024 [--tile 256]
 */
public final class VaeThroughput {
    public static void main(String[] args) throws IOException {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        Device device = Device.parse(a.get("device", "cpu"));
        if (a.integer("threads", 0) > 0) Torch.setNumThreads(a.integer("threads", 0));
        int cacheMib = a.integer("cache-mib", 1024);
        Torch.cacheCpuMemory((long) cacheMib << 20);
        DType dtype = a.dtype("dtype", "float32");
        try (AutoencoderKL vae = AutoencoderKL.SD.create(dtype, device, 0); Generator g = Generator.create(0, device);
             TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad()) {
            vae.eval();
            int memory = a.integer("memory", 0);
            if (memory > 0) {
                int tile = a.integer("tile", 0);
                Tensor z = Tensor.randn(new long[] {1, 4, memory / 8, memory / 8}, DType.FLOAT32, device, g).to(dtype);
                long before = residentKb("VmRSS");
                long start = System.nanoTime();
                try (Tensor image = vae.decode(z, tile > 0 ? Chunking.tiles(tile) : Chunking.NONE)) {
                    Torch.synchronize(device);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"decode\": %d, \"tile\": %d, \"threads\": %d, \"cache_mib\": %d, \"seconds\": %.2f, "
                        + "\"peak_mib_above_start\": %.0f, \"peak_rss_mib\": %.0f}%n",
                        memory, tile, Torch.numThreads(), cacheMib, seconds, (residentKb("VmHWM") - before) / 1024.0, residentKb("VmHWM") / 1024.0);
                return;
            }
            int size = a.integer("size", 256), batch = a.integer("batch", 1), repeats = a.integer("repeats", 2);
            Tensor x = Tensor.rand(new long[] {batch, 3, size, size}, DType.FLOAT32, device, g).mul(2).sub(1).to(dtype);
            Tensor z = Tensor.randn(new long[] {batch, 4, size / 8, size / 8}, DType.FLOAT32, device, g).to(dtype);
            double encode = Double.MAX_VALUE, decode = Double.MAX_VALUE, encodeCpu = Double.MAX_VALUE, decodeCpu = Double.MAX_VALUE;
            long encodeFaults = Long.MAX_VALUE, decodeFaults = Long.MAX_VALUE;
            for (int r = 0; r <= repeats; r++) { // the first round warms up
                try (TensorScope run = TensorScope.open()) {
                    long t0 = System.nanoTime(), c0 = cpuNanos(), f0 = minorFaults();
                    vae.encodeMoments(x);
                    Torch.synchronize(device);
                    long t1 = System.nanoTime(), c1 = cpuNanos(), f1 = minorFaults();
                    vae.decode(z);
                    Torch.synchronize(device);
                    long t2 = System.nanoTime(), c2 = cpuNanos(), f2 = minorFaults();
                    if (r > 0) {
                        encode = Math.min(encode, (t1 - t0) / 1e9);
                        decode = Math.min(decode, (t2 - t1) / 1e9);
                        encodeCpu = Math.min(encodeCpu, (c1 - c0) / 1e9);
                        decodeCpu = Math.min(decodeCpu, (c2 - c1) / 1e9);
                        encodeFaults = Math.min(encodeFaults, f1 - f0);
                        decodeFaults = Math.min(decodeFaults, f2 - f1);
                    }
                }
            }
            System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"size\": %d, \"batch\": %d, \"device\": \"%s\", \"dtype\": \"%s\", \"threads\": %d, \"cache_mib\": %d, \"encode_img_per_s\": %.4f, "
                    + "\"decode_img_per_s\": %.4f, \"encode_cpu_s_per_img\": %.3f, \"decode_cpu_s_per_img\": %.3f, "
                    + "\"encode_minflt_per_img\": %d, \"decode_minflt_per_img\": %d}%n",
                    size, batch, device, dtype.name().toLowerCase(Locale.ROOT), Torch.numThreads(), cacheMib, batch / encode, batch / decode, encodeCpu / batch, decodeCpu / batch,
                    encodeFaults / batch, decodeFaults / batch);
        }
    }

    /** CPU time of the whole process (every thread, user and system), as Python's time.process_time. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Minor page faults of the process so far (/proc/self/stat's tenth field, as getrusage's ru_minflt). */
    static long minorFaults() throws IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[7]); // fields from the state (third) on: minflt is the tenth overall
    }

    /** A /proc/self/status field in KiB (VmRSS now, VmHWM the peak). */
    static long residentKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
