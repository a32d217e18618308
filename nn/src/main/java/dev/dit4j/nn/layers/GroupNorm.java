package dev.dit4j.nn.layers;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleSpec;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.VarBuilder;
import io.soabase.recordbuilder.core.RecordBuilder;

/** Group norm over [N, C, *] in {@code groups} groups of channels, with per-channel {@code weight} and {@code bias}. */
public final class GroupNorm extends Module {
    /** A group norm's groups, channels (divisible by the groups), eps and whether it has {@code weight} and {@code bias}. */
    @RecordBuilder
    public record Options(long groups, long channels, double eps, boolean affine)
            implements ModuleSpec<GroupNorm>, GroupNormOptionsBuilder.With {
        public Options {
            if (groups <= 0 || channels % groups != 0) {
                throw new IllegalArgumentException(channels + " channels do not split into " + groups + " groups");
            }
        }

        @Override
        public GroupNorm build(VarBuilder vb) {
            return new GroupNorm(vb, this);
        }
    }

    /** eps 1e-5 with weight and bias, as nn.GroupNorm(groups, channels). */
    public static Options of(long groups, long channels) {
        return new Options(groups, channels, 1e-5, true);
    }

    private final long groups;
    private final double eps;
    private final Tensor weight;
    private final Tensor bias;

    public GroupNorm(VarBuilder vb, Options o) {
        super(vb);
        this.groups = o.groups();
        this.eps = o.eps();
        this.weight = o.affine() ? registerParameter("weight", new long[] {o.channels()}, Init.ones()) : null;
        this.bias = o.affine() ? registerParameter("bias", new long[] {o.channels()}, Init.zeros()) : null;
    }

    public Tensor forward(Tensor x) {
        return Functional.groupNorm(x, groups, weight, bias, eps);
    }
}
