package dev.dit4j.models.udit;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;

/**
 * U-DiT's re-parameterisable feed-forward ('rep', rep = 1; the paper 3.3), hidden width H.
 *
 * <p>Training form (what checkpoints store): p = GELU_exact(Conv1x1(H/2 -> H)(Conv1x1(D -> H/2)(x)));
 * s = p + DW5(p) + DW3(p) + DW1(p); out = Conv1x1(H/2 -> D)(Conv1x1(H -> H/2)(s)). Keys
 * {@code project_in.0/1}, {@code dwconv.0/1/2}, {@code project_out.0/1}.
 *
 * <p>The training form runs the three depthwise branches as one 5x5 depthwise conv whose kernel is
 * assembled, differentiably, from the three parameters (K5 + centred K3 + centred K1): the same
 * function and gradients as three convs, at the cost of one.
 *
 * <p>Inference form ({@link #reparameterize()}): the two 1x1 pairs are multiplied into one conv
 * each and the depthwise kernel takes the identity too, so a forward costs three convs. Used while
 * the module is in eval mode; {@code train(true)} drops it.
 *
 * <p>Difference from the authors' code: their merge adds the 3x3 and 1x1 kernels and the identity
 * in place into the live {@code dwconv.0.weight} parameter (a detached alias), so every second
 * {@code eval()} adds them again and a model saved after {@code eval()} carries merged kernels.
 * Here the merged weights are always computed into fresh tensors from the untouched parameters:
 * re-parameterising again gives the same weights and the state dict keeps the training form.
 */
public final class RepFfn extends Module {
    private final int dim;
    private final int hidden;
    private final Conv2d in1;
    private final Conv2d in2;
    private final Conv2d dw5;
    private final Conv2d dw3;
    private final Conv2d dw1;
    private final Conv2d out1;
    private final Conv2d out2;
    private Merged merged;

    /** Merged inference weights: one 1x1 in, one depthwise 5x5, one 1x1 out. */
    public record Merged(Tensor inWeight, Tensor inBias, Tensor dwWeight, Tensor dwBias, Tensor outWeight, Tensor outBias)
            implements AutoCloseable {
        public long parameterCount() {
            return inWeight.numel() + inBias.numel() + dwWeight.numel() + dwBias.numel() + outWeight.numel() + outBias.numel();
        }

        @Override
        public void close() {
            inWeight.close();
            inBias.close();
            dwWeight.close();
            dwBias.close();
            outWeight.close();
            outBias.close();
        }
    }

    /** dim D in and out, hidden H = (int) (D * mlpRatio), even. */
    public RepFfn(VarBuilder vb, int dim, double mlpRatio) {
        super(vb);
        this.dim = dim;
        this.hidden = (int) (dim * mlpRatio);
        if (hidden < 2 || hidden % 2 != 0) throw new IllegalArgumentException("FFN hidden width " + hidden + " must be even and >= 2");
        int half = hidden / 2;
        in1 = registerModule("project_in.0", conv(dim, half, 1, 1));
        in2 = registerModule("project_in.1", conv(half, hidden, 1, 1));
        ModuleList<Conv2d> dw = registerModule("dwconv", ModuleList::new);
        dw5 = dw.add(conv(hidden, hidden, 5, hidden));
        dw3 = dw.add(conv(hidden, hidden, 3, hidden));
        dw1 = dw.add(conv(hidden, hidden, 1, hidden));
        out1 = registerModule("project_out.0", conv(hidden, half, 1, 1));
        out2 = registerModule("project_out.1", conv(half, dim, 1, 1));
    }

    private static Conv2d.Options conv(int in, int out, int kernel, int groups) {
        return Conv2d.of(in, out, kernel).samePadding().withGroups(groups).xavier();
    }

    public int hidden() {
        return hidden;
    }

    /** The merged weights in use, or null while the training form runs. */
    public Merged merged() {
        return merged;
    }

    /** x [N, D, H, W] -> [N, D, H, W]: the merged form in eval mode once re-parameterised, else the training form. */
    public Tensor forward(Tensor x) {
        if (x.dim() != 4 || x.size(1) != dim) {
            throw new IllegalArgumentException("FFN expects [N, " + dim + ", H, W], got " + java.util.Arrays.toString(x.shape()));
        }
        Merged m = merged;
        try (TensorScope scope = TensorScope.open()) {
            if (m != null && !isTraining()) {
                Tensor p = Functional.conv2d(x, m.inWeight(), m.inBias(), 1, 0, 1).gelu(false);
                Tensor s = Functional.conv2d(p, m.dwWeight(), m.dwBias(), 1, 2, hidden);
                return scope.keep(Functional.conv2d(s, m.outWeight(), m.outBias(), 1, 0, 1));
            }
            Tensor p = in2.forward(in1.forward(x)).gelu(false);
            Tensor s = p.add(Functional.conv2d(p, depthwiseKernel(), depthwiseBias(), 1, 2, hidden));
            return scope.keep(out2.forward(out1.forward(s)));
        }
    }

    /**
     * Computes the merged inference weights from the current parameters into fresh tensors
     * (replacing earlier ones); they are used while the module is in eval mode. Idempotent.
     */
    public RepFfn reparameterize() {
        Merged fresh;
        try (var noGrad = Autograd.noGrad(); TensorScope scope = TensorScope.open()) {
            Tensor[] in = chain(in1, in2);
            Tensor[] out = chain(out1, out2);
            Tensor k = depthwiseKernel(); // fresh: the parameters themselves are never written
            k.narrow(2, 2, 1).narrow(3, 2, 1).add_(1.0); // the identity branch
            Tensor b = depthwiseBias();
            fresh = new Merged(keep(scope, in[0]), keep(scope, in[1]), keep(scope, k), keep(scope, b), keep(scope, out[0]),
                    keep(scope, out[1]));
        }
        dropReparameterization();
        merged = fresh;
        return this;
    }

    /** K5 + K3 + K1 with the smaller kernels centred in 5x5: [H, 1, 5, 5], differentiable in all three. */
    private Tensor depthwiseKernel() {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(dw5.weight().add(centred(dw3.weight(), 1)).add(centred(dw1.weight(), 2)));
        }
    }

    private Tensor depthwiseBias() {
        try (TensorScope scope = TensorScope.open()) {
            return scope.keep(dw5.bias().add(dw3.bias()).add(dw1.bias()));
        }
    }

    /** Zero-pads the last two dims of a kernel by {@code border} on every side (concatenation keeps autograd). */
    private static Tensor centred(Tensor k, int border) {
        try (TensorScope scope = TensorScope.open()) {
            long[] s = k.shape();
            Tensor rows = Tensor.zeros(new long[] {s[0], s[1], border, s[3]}, k.dtype(), k.device());
            Tensor tall = Tensor.cat(java.util.List.of(rows, k, rows), 2);
            Tensor cols = Tensor.zeros(new long[] {s[0], s[1], s[2] + 2L * border, border}, k.dtype(), k.device());
            return scope.keep(Tensor.cat(java.util.List.of(cols, tall, cols), 3));
        }
    }

    private static Tensor keep(TensorScope scope, Tensor t) {
        return TensorScope.release(scope.keep(t));
    }

    /** Two 1x1 convs a then b as one: W = Wb Wa, bias = Wb ba + bb. */
    private static Tensor[] chain(Conv2d a, Conv2d b) {
        Tensor wa = a.weight().flatten(1, 3);
        Tensor wb = b.weight().flatten(1, 3);
        Tensor w = wb.mm(wa).view(wb.size(0), wa.size(1), 1, 1).contiguous();
        Tensor bias = wb.matmul(a.bias()).add(b.bias());
        return new Tensor[] {w, bias};
    }

    /** Frees the merged weights; the training form runs again. */
    public void dropReparameterization() {
        if (merged != null) merged.close();
        merged = null;
    }

    /** Entering training mode drops the merged weights (they would go stale), as the authors' train() does. */
    @Override
    public Module train(boolean on) {
        if (on) dropReparameterization();
        return super.train(on);
    }

    @Override
    public void close() {
        dropReparameterization();
        super.close();
    }
}
