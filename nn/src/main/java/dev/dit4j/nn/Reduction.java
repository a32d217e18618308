package dev.dit4j.nn;

/** How a loss reduces over elements. */
public enum Reduction {
    NONE, MEAN, SUM
}
