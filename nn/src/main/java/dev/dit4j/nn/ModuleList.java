package dev.dit4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Children named 0, 1, 2, ... in order, as nn.ModuleList names them. */
public final class ModuleList<M extends Module> extends Module {
    private final List<M> items = new ArrayList<>();

    public ModuleList(VarBuilder vb) {
        super(vb);
    }

    /** Builds {@code spec} as the next item. */
    public M add(ModuleSpec<M> spec) {
        M module = registerModule(Integer.toString(items.size()), spec);
        items.add(module);
        return module;
    }

    public List<M> items() {
        return Collections.unmodifiableList(items);
    }
}
