package dev.dit4j.nn.layers;

/** The two GELUs of nn.GELU: exact (erf) and the tanh approximation (approximate="tanh"). */
public enum Gelu {
    EXACT, TANH;

    boolean tanh() {
        return this == TANH;
    }
}
