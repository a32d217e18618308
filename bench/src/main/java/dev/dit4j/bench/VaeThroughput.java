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
 * <p>Options: --size 256 --batch 1 --repeats 2 --device cpu | --memory 1024 [--tile 256]
 */
public final class VaeThroughput {
    public static void main(String[] args) throws IOException {
        DiTTrainThroughput.Args a = new DiTTrainThroughput.Args(args);
        Device device = Device.parse(a.get("device", "cpu"));
        try (AutoencoderKL vae = AutoencoderKL.SD.create(device, 0); Generator g = Generator.create(0, device);
             TensorScope s = TensorScope.open(); var noGrad = Autograd.noGrad()) {
            vae.eval();
            int memory = a.integer("memory", 0);
            if (memory > 0) {
                int tile = a.integer("tile", 0);
                Tensor z = Tensor.randn(new long[] {1, 4, memory / 8, memory / 8}, DType.FLOAT32, device, g);
                long before = residentKb("VmRSS");
                long start = System.nanoTime();
                try (Tensor image = vae.decode(z, tile > 0 ? Chunking.tiles(tile) : Chunking.NONE)) {
                    Torch.synchronize(device);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"decode\": %d, \"tile\": %d, \"seconds\": %.2f, \"peak_mib_above_start\": %.0f}%n",
                        memory, tile, seconds, (residentKb("VmHWM") - before) / 1024.0);
                return;
            }
            int size = a.integer("size", 256), batch = a.integer("batch", 1), repeats = a.integer("repeats", 2);
            Tensor x = Tensor.rand(new long[] {batch, 3, size, size}, DType.FLOAT32, device, g).mul(2).sub(1);
            Tensor z = Tensor.randn(new long[] {batch, 4, size / 8, size / 8}, DType.FLOAT32, device, g);
            double encode = Double.MAX_VALUE, decode = Double.MAX_VALUE;
            for (int r = 0; r <= repeats; r++) { // the first round warms up
                try (TensorScope run = TensorScope.open()) {
                    long t0 = System.nanoTime();
                    vae.encodeMoments(x);
                    Torch.synchronize(device);
                    long t1 = System.nanoTime();
                    vae.decode(z);
                    Torch.synchronize(device);
                    long t2 = System.nanoTime();
                    if (r > 0) {
                        encode = Math.min(encode, (t1 - t0) / 1e9);
                        decode = Math.min(decode, (t2 - t1) / 1e9);
                    }
                }
            }
            System.out.printf(Locale.ROOT, "{\"impl\": \"dit4j\", \"size\": %d, \"batch\": %d, \"threads\": %d, \"encode_img_per_s\": %.4f, "
                    + "\"decode_img_per_s\": %.4f}%n", size, batch, Torch.numThreads(), batch / encode, batch / decode);
        }
    }

    /** A /proc/self/status field in KiB (VmRSS now, VmHWM the peak). */
    static long residentKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status");
    }
}
