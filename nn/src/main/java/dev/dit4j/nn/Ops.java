package dev.dit4j.nn;

/** Operation codes of the shim's elementwise entry points (dt_unary_op, dt_binary_op in dit4j.h). */
final class Ops {
    private Ops() {}

    static final int NEG = 0, EXP = 1, LOG = 2, SQRT = 3, RSQRT = 4, TANH = 5, SIN = 6, COS = 7, ABS = 8,
            SIGMOID = 9, RELU = 10, SILU = 11, GELU = 12, GELU_TANH = 13, SQUARE = 14, LOGICAL_NOT = 15, ERF = 16,
            RECIPROCAL = 17, SIGN = 18, FLOOR = 19, CEIL = 20, ROUND = 21, LOG1P = 22, EXPM1 = 23, ISNAN = 24,
            ISFINITE = 25;

    static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3, POW = 4, MAXIMUM = 5, MINIMUM = 6, EQ = 7, NE = 8, LT = 9,
            LE = 10, GT = 11, GE = 12, RSUB = 13, RDIV = 14, RPOW = 15, LOGICAL_AND = 16, LOGICAL_OR = 17, ATAN2 = 18,
            REMAINDER = 19;
}
