package dev.dit4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A neural-network component with PyTorch-style names: parameters, buffers and children are
 * registered under names, so a model's state dict keys read like PyTorch's
 * ({@code blocks.3.attn.qkv.weight}) and official checkpoints load unchanged.
 *
 * <h2>Construction</h2>
 * A module is built from a {@link VarBuilder}, the one argument besides its own options:
 * {@link #registerParameter(String, long[], Init)} makes a tensor at this module's path (new and
 * initialised, or taken from a weight file) and {@link #registerModule(String, ModuleSpec)} builds
 * a child one level down. A module owns its parameters and buffers and frees them in
 * {@link #close()}, which also closes its children.
 *
 * <h2>Forwards and temporaries</h2>
 * A forward takes tensors it does not own and returns a new tensor that belongs to the caller's
 * innermost {@link TensorScope} (or to the caller, when none is open). A layer whose forward is a
 * single libtorch op (Linear, Conv2d, LayerNorm, GroupNorm, Embedding) returns that op's result.
 * Every other forward opens a scope of its own, computes freely inside it and returns
 * {@code scope.keep(result)}; it does not close its temporaries one by one. So whatever the
 * caller does, a forward leaves nothing behind but its result.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final VarBuilder vb;
    private boolean training = true;

    /** A module built from {@code vb}: its parameters and children are made at vb's path. */
    protected Module(VarBuilder vb) {
        this.vb = java.util.Objects.requireNonNull(vb, "vb");
    }

    /** A module that registers only tensors made elsewhere (no VarBuilder). */
    protected Module() {
        this.vb = null;
    }

    private VarBuilder vb() {
        if (vb == null) throw new IllegalStateException(getClass().getSimpleName() + " was made without a VarBuilder");
        return vb;
    }

    /** A trainable parameter {@code name} of {@code shape}, initialised by {@code init} or loaded. */
    protected Tensor registerParameter(String name, long[] shape, Init init) {
        return registerParameter(name, vb().tensor(name, shape, init), true);
    }

    /** A parameter saved in the state dict but never trained (DiT's fixed position table). */
    protected Tensor registerFrozenParameter(String name, long[] shape, Init init) {
        return registerParameter(name, vb().tensor(name, shape, init), false);
    }

    /** A buffer {@code name} (saved, not trained), initialised by {@code init} or loaded. */
    protected Tensor registerBuffer(String name, long[] shape, Init init) {
        return registerBuffer(name, vb().tensor(name, shape, init));
    }

    /**
     * Builds {@code spec} one level down and registers it as {@code name}. A dotted name places it
     * inside containers made on the way, as an index of nn.Sequential does: DiT's
     * {@code "adaLN_modulation.1"} is the Linear after the (parameterless) SiLU.
     */
    protected <M extends Module> M registerModule(String name, ModuleSpec<M> spec) {
        int dot = name.indexOf('.');
        if (dot < 0) return attach(name, spec.build(vb().pp(name)));
        String head = name.substring(0, dot);
        Module container = children.containsKey(head) ? children.get(head) : registerModule(head, Sequential::new);
        return container.registerModule(name.substring(dot + 1), spec);
    }

    /** Registers a trainable parameter; the module takes ownership of it. */
    protected Tensor registerParameter(String name, Tensor value) {
        return registerParameter(name, value, true);
    }

    /** Registers a parameter; a frozen one is saved and loaded but never trained (requires no grad). */
    protected Tensor registerParameter(String name, Tensor value, boolean trainable) {
        checkName(name);
        Tensor p = TensorScope.release(value);
        if (p.requiresGrad() != trainable) p.requiresGrad(trainable);
        parameters.put(name, p);
        return p;
    }

    /** Registers a tensor saved in the state dict but not trained (running stats, fixed tables). */
    protected Tensor registerBuffer(String name, Tensor value) {
        checkName(name);
        buffers.put(name, TensorScope.release(value));
        return value;
    }

    private <M extends Module> M attach(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("invalid member name '" + name + "'");
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already registered in " + getClass().getSimpleName());
        }
    }

    /** Direct parameter by local name (for subclasses' forward code). */
    protected Tensor param(String name) {
        Tensor t = parameters.get(name);
        if (t == null) throw new IllegalArgumentException(getClass().getSimpleName() + " has no parameter '" + name + "'");
        return t;
    }

    protected Tensor buffer(String name) {
        Tensor t = buffers.get(name);
        if (t == null) throw new IllegalArgumentException(getClass().getSimpleName() + " has no buffer '" + name + "'");
        return t;
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter, in registration order, under its dotted name. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false);
        return out;
    }

    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Parameters that require gradients (trainable), by dotted name. */
    public Map<String, Tensor> namedTrainableParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> {
            if (v.requiresGrad()) out.put(k, v);
        });
        return out;
    }

    public long parameterCount() {
        long n = 0;
        for (Tensor t : namedParameters().values()) n += t.numel();
        return n;
    }

    /** Parameters and buffers by dotted name: the tensors themselves, not copies. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean withBuffers) {
        parameters.forEach((k, v) -> out.put(prefix + k, v));
        if (withBuffers) buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, m) -> m.collect(prefix + k + ".", out, withBuffers));
    }

    /** Loads a state dict strictly: every key must match by name and shape. */
    public void loadStateDict(Map<String, Tensor> state) {
        loadStateDict(state, true, UnaryOperator.identity());
    }

    /**
     * Copies matching tensors into this module's parameters and buffers (converting dtype and
     * device). {@code rename} maps each incoming key to this module's naming first. When strict,
     * missing, unexpected and mis-shaped keys are all reported together and nothing is copied.
     */
    public void loadStateDict(Map<String, Tensor> state, boolean strict, UnaryOperator<String> rename) {
        Map<String, Tensor> own = stateDict();
        Map<String, Tensor> incoming = new LinkedHashMap<>();
        state.forEach((k, v) -> incoming.put(rename.apply(k), v));
        StateDictMismatch.check(own, incoming, strict);
        try (var noGrad = Autograd.noGrad()) {
            for (var e : incoming.entrySet()) {
                Tensor target = own.get(e.getKey());
                if (target != null) target.copy_(e.getValue());
            }
        }
    }

    public boolean isTraining() {
        return training;
    }

    /** Sets training mode here and in every child (dropout, label dropout). */
    public Module train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
        return this;
    }

    public Module eval() {
        return train(false);
    }

    /** Clears every parameter's gradient. */
    public void zeroGrad() {
        namedParameters().values().forEach(Tensor::zeroGrad);
    }

    @Override
    public void close() {
        children.values().forEach(Module::close);
        parameters.values().forEach(Tensor::close);
        buffers.values().forEach(Tensor::close);
    }
}
