package dev.dit4j.nn;

import dev.dit4j.nn.io.WeightSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The construction context of a module tree (the role of candle's VarBuilder and tch's nn::Path):
 * the dtype, device and generator every new tensor takes, the dotted path of the module being
 * built ({@code blocks.3.attn}), and where tensors come from. Passed as the one argument that a
 * module's constructor needs besides its own options.
 *
 * <p>Created by {@link #init} it makes new tensors filled by each parameter's {@link Init}.
 * Created by {@link #load} it takes every tensor from a {@link WeightSource} instead, by its full
 * dotted name: no random initialisation and no second copy. Missing, mis-shaped and (at
 * {@link #finish}) unexpected keys are all reported together in one {@link StateDictMismatch}.
 */
public final class VarBuilder {
    /** What every path of one construction shares. */
    private static final class Root {
        final DType dtype;
        final Device device;
        final Generator gen;
        final WeightSource source;
        final Set<String> used = new HashSet<>();
        final List<String> missing = new ArrayList<>();
        final List<String> misshaped = new ArrayList<>();

        Root(DType dtype, Device device, Generator gen, WeightSource source) {
            this.dtype = dtype;
            this.device = device;
            this.gen = gen;
            this.source = source;
        }
    }

    private final Root root;
    private final String prefix;

    private VarBuilder(Root root, String prefix) {
        this.root = root;
        this.prefix = prefix;
    }

    /** New tensors of {@code dtype} on {@code device}, initialised from {@code gen}. */
    public static VarBuilder init(DType dtype, Device device, Generator gen) {
        return new VarBuilder(new Root(dtype, device, gen, null), "");
    }

    /** Tensors taken from {@code source}, converted to {@code dtype} on {@code device}. */
    public static VarBuilder load(WeightSource source, DType dtype, Device device) {
        return new VarBuilder(new Root(dtype, device, null, source), "");
    }

    /** The path one level down: {@code vb.pp("blocks").pp(3)} names {@code blocks.3.*}. */
    public VarBuilder pp(String name) {
        if (name.isEmpty()) throw new IllegalArgumentException("a path segment cannot be empty");
        return new VarBuilder(root, prefix + name + ".");
    }

    public VarBuilder pp(int index) {
        return pp(Integer.toString(index));
    }

    /** The full dotted name of {@code name} under this path. */
    public String path(String name) {
        return prefix + name;
    }

    public DType dtype() {
        return root.dtype;
    }

    public Device device() {
        return root.device;
    }

    /** True when tensors come from a weight source rather than an initialiser. */
    public boolean loading() {
        return root.source != null;
    }

    /**
     * A new tensor {@code name} of {@code shape} in this builder's dtype, owned by the caller:
     * initialised by {@code init}, or taken from the weight source. A key the source lacks or holds
     * in another shape is recorded and stands in as zeros until {@link #finish} reports it.
     */
    public Tensor tensor(String name, long[] shape, Init init) {
        DType dtype = root.dtype;
        String key = path(name);
        if (root.source == null) {
            Tensor t = TensorScope.release(Tensor.empty(shape, dtype, root.device));
            try (var noGrad = Autograd.noGrad()) {
                init.fill(t, root.gen);
            }
            return t;
        }
        if (!root.used.add(key)) throw new IllegalArgumentException("'" + key + "' is built twice");
        long[] stored = root.source.shape(key);
        if (stored == null) {
            root.missing.add(key);
        } else if (!Arrays.equals(stored, shape)) {
            root.misshaped.add(key + ": checkpoint " + Arrays.toString(stored) + ", model " + Arrays.toString(shape));
        } else {
            return TensorScope.release(root.source.take(key, dtype, root.device));
        }
        return TensorScope.release(Tensor.zeros(shape, dtype, root.device));
    }

    /**
     * Ends a loading construction: throws one {@link StateDictMismatch} naming every missing,
     * mis-shaped and unused key of the source (keys for which {@code ignore} is true are not
     * counted as unused). A no-op for an initialising builder.
     */
    public void finish(java.util.function.Predicate<String> ignore) {
        if (root.source == null) return;
        List<String> unexpected = new ArrayList<>();
        for (String k : root.source.keys()) if (!root.used.contains(k) && !ignore.test(k)) unexpected.add(k);
        if (!root.missing.isEmpty() || !root.misshaped.isEmpty() || !unexpected.isEmpty()) {
            throw StateDictMismatch.of(root.missing, unexpected, root.misshaped, root.source.describe());
        }
    }

    public void finish() {
        finish(k -> false);
    }
}
