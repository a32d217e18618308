package dev.dit4j.nn;

/** Where a tensor lives: the CPU or a CUDA device. */
public record Device(Type type, int index) {
    /** The kind of device; CUDA devices also carry an index. */
    public enum Type {
        CPU(0), CUDA(1);

        final int code;

        Type(int code) {
            this.code = code;
        }
    }

    public static final Device CPU = new Device(Type.CPU, -1);

    public Device {
        if (type == Type.CPU && index != -1) throw new IllegalArgumentException("the CPU device has no index");
        if (type == Type.CUDA && index < 0) throw new IllegalArgumentException("CUDA device index must be >= 0, got " + index);
        if (type == Type.CUDA) requireCuda(index);
    }

    /**
     * A CUDA device is refused when it is made, with what to do about it, rather than at the first
     * tensor with libtorch's dispatcher dump ("Could not run 'aten::empty' ... 'CUDA' backend").
     */
    private static void requireCuda(int index) {
        int count = CudaDevices.COUNT;
        if (count > index) return;
        var info = Torch.nativeInfo();
        if (!info.builtWithCuda()) {
            throw new IllegalStateException("cannot use cuda:" + index + ": CUDA is not available in this libtorch ("
                    + info.libtorchVersion() + " at " + info.libtorchDir() + ", a CPU build). Install a CUDA build of libtorch "
                    + "(or PyTorch with CUDA) of the same version and set LIBTORCH to it: see README, \"How libtorch is found\"");
        }
        if (count == 0) {
            throw new IllegalStateException("cannot use cuda:" + index + ": libtorch " + info.libtorchVersion()
                    + " is a CUDA build but finds no CUDA device (no GPU, or its driver is missing or too old; check nvidia-smi)");
        }
        throw new IllegalStateException("cannot use cuda:" + index + ": libtorch finds " + count + " CUDA device(s), cuda:0 to cuda:" + (count - 1));
    }

    /** Asked once: whether CUDA works does not change while the process runs. */
    private static final class CudaDevices {
        static final int COUNT = Torch.cudaAvailable() ? Torch.cudaDeviceCount() : 0;
    }

    public static Device cuda(int index) {
        return new Device(Type.CUDA, index);
    }

    /** Parses "cpu", "cuda" (device 0) or "cuda:N"; a CUDA device this libtorch cannot use is refused (see the constructor). */
    public static Device parse(String text) {
        String s = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("cpu")) return CPU;
        if (s.equals("cuda")) return cuda(0);
        if (s.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(s.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + text + "': expected cpu, cuda or cuda:N");
    }

    static Device of(int typeCode, int index) {
        return typeCode == Type.CUDA.code ? cuda(Math.max(index, 0)) : CPU;
    }

    public boolean isCuda() {
        return type == Type.CUDA;
    }

    @Override
    public String toString() {
        return type == Type.CPU ? "cpu" : "cuda:" + index;
    }
}
