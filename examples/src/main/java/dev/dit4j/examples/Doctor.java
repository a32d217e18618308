package dev.dit4j.examples;

import dev.dit4j.bindings.CudnnLibrary;
import dev.dit4j.bindings.NativeLoader;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.SdpaBackend;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** Prints what dit4j found and which rule found it: libtorch, the shim, CUDA devices, cuDNN, attention kernels, the JDK. */
@Command(name = "doctor", mixinStandardHelpOptions = true, description = "Report libtorch, CUDA, cuDNN and SDPA backends.")
public final class Doctor implements Runnable {
    @Override
    public void run() {
        NativeLoader.Info info = Torch.nativeInfo();
        System.out.println("dit4j doctor");
        row("JDK", Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        row("libtorch", info.libtorchVersion() + " at " + info.libtorchDir() + (info.builtWithCuda() ? " (CUDA build)" : " (CPU build)"));
        row("  found by", info.libtorchSource());
        row("shim", info.shim() + " (compiled against libtorch " + info.shimTorchVersion() + ")");
        row("  found by", info.shimSource());
        row("CPU threads", String.valueOf(Torch.numThreads()));
        boolean cuda = Torch.cudaAvailable();
        row("CUDA", cuda ? Torch.cudaDeviceCount() + " device(s)" : "not available");
        List<Device> devices = new ArrayList<>(List.of(Device.CPU));
        if (cuda) {
            List<String> names = Torch.cudaDeviceNames();
            for (int i = 0; i < names.size(); i++) {
                row("  cuda:" + i, names.get(i));
                devices.add(Device.cuda(i));
            }
        }
        row("cuDNN (libtorch)", Torch.cudnnAvailable() ? "available" : "not available");
        row("cuDNN library", info.cudnnLibrary() == null ? info.cudnnStatus() : info.cudnnLibrary() + " (" + info.cudnnStatus() + ")");
        CudnnLibrary.version().ifPresent(v -> row("cuDNN version", v + " (read through the generated bindings)"));
        for (Device d : devices) row("SDPA on " + d, sdpaBackends(d));
    }

    /** Runs a tiny attention with each backend forced and lists the ones that ran. */
    static String sdpaBackends(Device device) {
        List<String> ok = new ArrayList<>();
        List<String> no = new ArrayList<>();
        DType dtype = device.isCuda() ? DType.BFLOAT16 : DType.FLOAT32;
        for (SdpaBackend b : SdpaBackend.values()) {
            if (b == SdpaBackend.AUTO) continue;
            try (TensorScope s = TensorScope.open()) {
                Tensor q = Tensor.randn(new long[] {1, 2, 16, 64}, dtype, device, null);
                Functional.scaledDotProductAttention(q, q, q, null, 0, false, 0, b);
                ok.add(b.name().toLowerCase());
            } catch (RuntimeException e) {
                no.add(b.name().toLowerCase());
            }
        }
        String auto;
        try (TensorScope s = TensorScope.open()) {
            Tensor q = Tensor.randn(new long[] {1, 2, 16, 64}, dtype, device, null);
            auto = Functional.scaledDotProductAttention(q, q, q, null, 0, false, 0, SdpaBackend.AUTO).backend().name().toLowerCase();
        }
        return String.join(", ", ok) + (no.isEmpty() ? "" : "  (unavailable: " + String.join(", ", no) + ")")
                + "; auto picks " + auto + " for [1,2,16,64] " + dtype.name().toLowerCase();
    }

    private static void row(String key, String value) {
        System.out.printf("  %-18s %s%n", key, value);
    }
}
