package dev.dit4j.nn;

/**
 * A container whose children are named by position, as nn.Sequential names them. Made by a
 * dotted {@link Module#registerModule(String, ModuleSpec)} name such as {@code "adaLN_modulation.1"}.
 */
public final class Sequential extends Module {
    public Sequential(VarBuilder vb) {
        super(vb);
    }
}
