package dev.dit4j.nn.io;

import dev.dit4j.nn.DType;

/** safetensors dtype names. */
final class SafetensorsDType {
    private SafetensorsDType() {}

    static DType parse(String name, String key) {
        return switch (name) {
            case "F32" -> DType.FLOAT32;
            case "F64" -> DType.FLOAT64;
            case "F16" -> DType.FLOAT16;
            case "BF16" -> DType.BFLOAT16;
            case "I64" -> DType.INT64;
            case "I32" -> DType.INT32;
            case "I16" -> DType.INT16;
            case "I8" -> DType.INT8;
            case "U8" -> DType.UINT8;
            case "BOOL" -> DType.BOOL;
            default -> throw new IllegalArgumentException("has tensor '" + key + "' of dtype " + name + ", which dit4j does not support");
        };
    }

    static String name(DType dtype) {
        return switch (dtype) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case FLOAT16 -> "F16";
            case BFLOAT16 -> "BF16";
            case INT64 -> "I64";
            case INT32 -> "I32";
            case INT16 -> "I16";
            case INT8 -> "I8";
            case UINT8 -> "U8";
            case BOOL -> "BOOL";
        };
    }
}
