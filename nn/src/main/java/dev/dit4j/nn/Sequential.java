package dev.dit4j.nn;


/** A container whose children are named by position ("0", "1", ...), as nn.Sequential names them. */
public final class Sequential extends Module {
    public <M extends Module> M add(int index, M module) {
        return registerModule(Integer.toString(index), module);
    }
}
