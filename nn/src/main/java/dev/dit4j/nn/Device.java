package dev.dit4j.nn;

/** Where a tensor lives: the CPU or a CUDA device. */
public record Device(Type type, int index) {
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
    }

    public static Device cuda(int index) {
        return new Device(Type.CUDA, index);
    }

    /** Parses "cpu", "cuda" (device 0) or "cuda:N". */
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
