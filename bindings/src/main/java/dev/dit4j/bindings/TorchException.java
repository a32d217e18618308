package dev.dit4j.bindings;

/** A failure inside libtorch or the shim, carrying libtorch's own message. */
public class TorchException extends RuntimeException {
    /** What kind of failure libtorch reported (mirrors dt_error_kind in dit4j.h). */
    public enum Kind { NONE, TORCH, INDEX, VALUE, TYPE, NOT_IMPLEMENTED, OUT_OF_MEMORY, STD, UNKNOWN, ARGUMENT, TIMEOUT, DISTRIBUTED }

    private final Kind kind;

    public TorchException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
