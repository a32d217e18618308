package dev.dit4j.models.eval;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import java.util.List;

/**
 * The mixed blocks of Inception v3 with torchvision's names, in the FID variant that pytorch-fid
 * patches in: the average-pool branches do not count the padding (TensorFlow's pooling), and the
 * last block (Mixed_7c) max-pools where the paper average-pools. Branches are concatenated in
 * torchvision's order.
 */
final class InceptionBlocks {
    private InceptionBlocks() {}

    /** Mixed_5b/5c/5d (FIDInceptionA). */
    static final class A extends Block {
        private final BasicConv2d b1, b5a, b5b, d1, d2, d3, pool;

        A(VarBuilder vb, long in, long poolFeatures) {
            super(vb);
            b1 = conv("branch1x1", in, 64, 1, 1, 0);
            b5a = conv("branch5x5_1", in, 48, 1, 1, 0);
            b5b = conv("branch5x5_2", 48, 64, 5, 1, 2);
            d1 = conv("branch3x3dbl_1", in, 64, 1, 1, 0);
            d2 = conv("branch3x3dbl_2", 64, 96, 3, 1, 1);
            d3 = conv("branch3x3dbl_3", 96, 96, 3, 1, 1);
            pool = conv("branch_pool", in, poolFeatures, 1, 1, 0);
        }

        @Override
        Tensor branches(Tensor x) {
            return cat(b1.forward(x), b5b.forward(b5a.forward(x)), d3.forward(d2.forward(d1.forward(x))),
                    pool.forward(Pools.avg3x3SameExcludingPad(x)));
        }
    }

    /** Mixed_6a (InceptionB): the 35 -> 17 reduction. */
    static final class B extends Block {
        private final BasicConv2d b3, d1, d2, d3;

        B(VarBuilder vb, long in) {
            super(vb);
            b3 = conv("branch3x3", in, 384, 3, 2, 0);
            d1 = conv("branch3x3dbl_1", in, 64, 1, 1, 0);
            d2 = conv("branch3x3dbl_2", 64, 96, 3, 1, 1);
            d3 = conv("branch3x3dbl_3", 96, 96, 3, 2, 0);
        }

        @Override
        Tensor branches(Tensor x) {
            return cat(b3.forward(x), d3.forward(d2.forward(d1.forward(x))), Pools.max3x3(x, 2));
        }
    }

    /** Mixed_6b..6e (FIDInceptionC); {@link #branch1x1} is exposed for sFID's spatial features. */
    static final class C extends Block {
        private final BasicConv2d b1, s1, s2, s3, d1, d2, d3, d4, d5, pool;

        C(VarBuilder vb, long in, long c7) {
            super(vb);
            b1 = conv("branch1x1", in, 192, 1, 1, 0);
            s1 = conv("branch7x7_1", in, c7, 1, 1, 0);
            s2 = strip("branch7x7_2", c7, c7, 7, true);
            s3 = strip("branch7x7_3", c7, 192, 7, false);
            d1 = conv("branch7x7dbl_1", in, c7, 1, 1, 0);
            d2 = strip("branch7x7dbl_2", c7, c7, 7, false);
            d3 = strip("branch7x7dbl_3", c7, c7, 7, true);
            d4 = strip("branch7x7dbl_4", c7, c7, 7, false);
            d5 = strip("branch7x7dbl_5", c7, 192, 7, true);
            pool = conv("branch_pool", in, 192, 1, 1, 0);
        }

        /** The 1x1 branch's output [N, 192, 17, 17] (after its BatchNorm and ReLU). */
        Tensor branch1x1(Tensor x) {
            return b1.forward(x);
        }

        @Override
        Tensor branches(Tensor x) {
            return branches(x, branch1x1(x));
        }

        /** The block's output given its 1x1 branch already computed. */
        Tensor branches(Tensor x, Tensor branch1x1) {
            return cat(branch1x1, s3.forward(s2.forward(s1.forward(x))),
                    d5.forward(d4.forward(d3.forward(d2.forward(d1.forward(x))))), pool.forward(Pools.avg3x3SameExcludingPad(x)));
        }
    }

    /** Mixed_7a (InceptionD): the 17 -> 8 reduction. */
    static final class D extends Block {
        private final BasicConv2d b1, b2, s1, s2, s3, s4;

        D(VarBuilder vb, long in) {
            super(vb);
            b1 = conv("branch3x3_1", in, 192, 1, 1, 0);
            b2 = conv("branch3x3_2", 192, 320, 3, 2, 0);
            s1 = conv("branch7x7x3_1", in, 192, 1, 1, 0);
            s2 = strip("branch7x7x3_2", 192, 192, 7, true);
            s3 = strip("branch7x7x3_3", 192, 192, 7, false);
            s4 = conv("branch7x7x3_4", 192, 192, 3, 2, 0);
        }

        @Override
        Tensor branches(Tensor x) {
            return cat(b2.forward(b1.forward(x)), s4.forward(s3.forward(s2.forward(s1.forward(x)))), Pools.max3x3(x, 2));
        }
    }

    /** Mixed_7b (FIDInceptionE_1, average pool) and Mixed_7c (FIDInceptionE_2, max pool). */
    static final class E extends Block {
        private final BasicConv2d b1, t1, t2a, t2b, d1, d2, d3a, d3b, pool;
        private final boolean maxPool;

        E(VarBuilder vb, long in, boolean maxPool) {
            super(vb);
            this.maxPool = maxPool;
            b1 = conv("branch1x1", in, 320, 1, 1, 0);
            t1 = conv("branch3x3_1", in, 384, 1, 1, 0);
            t2a = strip("branch3x3_2a", 384, 384, 3, true);
            t2b = strip("branch3x3_2b", 384, 384, 3, false);
            d1 = conv("branch3x3dbl_1", in, 448, 1, 1, 0);
            d2 = conv("branch3x3dbl_2", 448, 384, 3, 1, 1);
            d3a = strip("branch3x3dbl_3a", 384, 384, 3, true);
            d3b = strip("branch3x3dbl_3b", 384, 384, 3, false);
            pool = conv("branch_pool", in, 192, 1, 1, 0);
        }

        @Override
        Tensor branches(Tensor x) {
            Tensor t = t1.forward(x);
            Tensor d = d2.forward(d1.forward(x));
            Tensor pooled = maxPool ? Pools.max3x3Same(x) : Pools.avg3x3SameExcludingPad(x);
            return cat(b1.forward(x), t2a.forward(t), t2b.forward(t), d3a.forward(d), d3b.forward(d), pool.forward(pooled));
        }
    }

    /** A block whose forward concatenates its branches along channels; temporaries freed. */
    abstract static class Block extends Module {
        Block(VarBuilder vb) {
            super(vb);
        }

        abstract Tensor branches(Tensor x);

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                return s.keep(branches(x));
            }
        }

        BasicConv2d conv(String name, long in, long out, long k, long stride, long pad) {
            return registerModule(name, vb -> BasicConv2d.square(vb, in, out, k, stride, pad));
        }

        /** A 1 x n ({@code wide}) or n x 1 convolution at stride 1 that keeps the size. */
        BasicConv2d strip(String name, long in, long out, long n, boolean wide) {
            long pad = n / 2;
            return registerModule(name, vb -> wide ? new BasicConv2d(vb, in, out, 1, n, 1, 0, pad) : new BasicConv2d(vb, in, out, n, 1, 1, pad, 0));
        }

        static Tensor cat(Tensor... parts) {
            return Tensor.cat(List.of(parts), 1);
        }
    }
}
