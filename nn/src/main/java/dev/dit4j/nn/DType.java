package dev.dit4j.nn;

/** Element types, with libtorch's ScalarType codes. */
public enum DType {
    UINT8(0, 1), INT8(1, 1), INT16(2, 2), INT32(3, 4), INT64(4, 8), FLOAT16(5, 2), FLOAT32(6, 4), FLOAT64(7, 8),
    BOOL(11, 1), BFLOAT16(15, 2);

    private final int code;
    private final int byteSize;

    DType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** libtorch's c10::ScalarType value. */
    public int code() {
        return code;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == FLOAT16 || this == FLOAT32 || this == FLOAT64 || this == BFLOAT16;
    }

    public static DType fromCode(int code) {
        for (DType d : values()) if (d.code == code) return d;
        throw new IllegalArgumentException("dtype code " + code + " is not supported by dit4j");
    }
}
