package dev.dit4j.nn;

/**
 * What a module is, before it exists: a layer's options ({@code Linear.of(d, 4 * d).xavier()}) or a
 * lambda ({@code p -> new Block(p, config)}). {@link Module#registerModule(String, ModuleSpec)}
 * builds it at its place in the parameter tree.
 */
@FunctionalInterface
public interface ModuleSpec<M extends Module> {
    M build(VarBuilder vb);
}
