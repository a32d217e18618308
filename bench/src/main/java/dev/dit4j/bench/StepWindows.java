package dev.dit4j.bench;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Torch;
import java.util.Arrays;

/**
 * Throughput as the training benchmarks time it: {@code warmup} untimed steps (after which the
 * CUDA peak-memory counters are reset, so peaks are the steady state's), then {@code windows}
 * windows of {@code steps} steps, each between device syncs and the optional {@code fence} (a
 * process group's barrier, so that every rank times the same window). Each window's items per
 * second, sorted; the benchmarks report the median.
 */
final class StepWindows {
    private StepWindows() {}

    static double[] rates(Device device, int warmup, int steps, int windows, double itemsPerStep, Runnable step, Runnable fence) {
        for (int i = 0; i < warmup; i++) step.run();
        if (device.isCuda()) Torch.resetPeakMemoryStats(device);
        double[] rates = new double[windows];
        for (int w = 0; w < windows; w++) {
            if (fence != null) fence.run();
            Torch.synchronize(device);
            long start = System.nanoTime();
            for (int i = 0; i < steps; i++) step.run();
            Torch.synchronize(device);
            if (fence != null) fence.run();
            rates[w] = steps * itemsPerStep / ((System.nanoTime() - start) / 1e9);
        }
        Arrays.sort(rates);
        return rates;
    }

    static double median(double[] sortedRates) {
        return sortedRates[sortedRates.length / 2];
    }
}
