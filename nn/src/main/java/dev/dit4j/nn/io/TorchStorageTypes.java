package dev.dit4j.nn.io;

import dev.dit4j.nn.DType;
import java.util.Map;

/** The storage classes torch.save names in persistent ids ({@code torch.FloatStorage}, ...), by dtype. */
final class TorchStorageTypes {
    private TorchStorageTypes() {}

    private static final Map<DType, String> CLASS_NAMES = Map.of(
            DType.FLOAT32, "FloatStorage",
            DType.FLOAT64, "DoubleStorage",
            DType.FLOAT16, "HalfStorage",
            DType.BFLOAT16, "BFloat16Storage",
            DType.INT64, "LongStorage",
            DType.INT32, "IntStorage",
            DType.INT16, "ShortStorage",
            DType.INT8, "CharStorage",
            DType.UINT8, "ByteStorage",
            DType.BOOL, "BoolStorage");

    /** The class name in module {@code torch}, as torch.save writes it. */
    static String className(DType dtype) {
        return CLASS_NAMES.get(dtype);
    }

    /** The dtype of a storage class, or null if g is not one dit4j reads. */
    static DType dtypeOf(PickleReader.Global g) {
        // An untyped storage is raw bytes; torch reads it as uint8.
        if (g.module().equals("torch.storage") && g.name().equals("UntypedStorage")) return DType.UINT8;
        if (!g.module().equals("torch")) return null;
        for (var e : CLASS_NAMES.entrySet()) if (e.getValue().equals(g.name())) return e.getKey();
        return null;
    }
}
