package dev.dit4j.models.flops;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.FlopCounter;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.TensorScope;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Map;

/**
 * Parameters and multiply-accumulates of one forward pass, counted by running the model once
 * under a {@link FlopCounter} (libtorch's meta device is not reachable through the shim, so the
 * pass really runs; at batch 1 on CPU even DiT-XL/2 takes seconds).
 */
public final class ModelFlops {
    private ModelFlops() {}

    /**
     * A measurement. {@code params} counts every registered parameter, frozen ones included
     * (DiT's fixed pos_embed), as the papers' tables do; {@code macs} adds the layer norms when
     * the subject's reference counts them.
     */
    public record Result(String name, long params, long macs, Map<FlopCounter.Op, Long> byOp, String reference) {
        /** MACs in units of 1e9: the papers' "GFLOPs". */
        public double gmacs() {
            return macs / 1e9;
        }

        /** True when the GMACs, rounded to as many decimals as the reference prints, equal it. */
        public boolean matchesReference() {
            if (reference == null) return false;
            BigDecimal ref = new BigDecimal(reference);
            return new BigDecimal(macs).movePointLeft(9).setScale(ref.scale(), RoundingMode.HALF_UP).compareTo(ref) == 0;
        }

        /** Parameters in millions. */
        public double mparams() {
            return params / 1e6;
        }
    }

    /** Builds the subject's model on the device, counts its parameters and one batch-1 forward, and frees it. */
    public static Result measure(FlopSubject subject, Device device) {
        try (Module model = subject.build().apply(device)) {
            model.eval();
            long params = model.parameterCount();
            try (Autograd.GradMode g = Autograd.noGrad(); TensorScope s = TensorScope.open();
                 FlopCounter counter = FlopCounter.start()) {
                subject.forward().accept(model, device);
                long norms = subject.countsNorms() ? counter.byOp().getOrDefault(FlopCounter.Op.LAYER_NORM, 0L) : 0;
                return new Result(subject.name(), params, counter.macs() + norms, counter.byOp(), subject.reference());
            }
        }
    }
}
