package dev.dit4j.nn;

/** The kernel behind scaled dot-product attention (dt_sdpa_backend in dit4j.h). */
public enum SdpaBackend {
    /** Let libtorch choose for these inputs; the choice is reported. */
    AUTO(-1),
    MATH(0),
    FLASH(1),
    EFFICIENT(2),
    CUDNN(3);

    final int code;

    SdpaBackend(int code) {
        this.code = code;
    }

    static SdpaBackend fromCode(int code) {
        for (SdpaBackend b : values()) if (b.code == code) return b;
        throw new IllegalArgumentException("unknown attention backend code " + code);
    }
}
