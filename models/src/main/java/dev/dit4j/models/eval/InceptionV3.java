package dev.dit4j.models.eval;

import dev.dit4j.models.Weights;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Inception v3 as FID measures with it (Szegedy et al., "Rethinking the Inception Architecture",
 * arXiv 1512.00567; Heusel et al., FID, arXiv 1706.08500): the TensorFlow 2015-12-05 graph as
 * pytorch-fid ports it, with its 1008-class head. Loads pytorch-fid's weights file
 * ({@code pt_inception-2015-12-05-6726825d.pth}, torchvision's key layout) unchanged.
 *
 * <p>Inputs are images in [0, 1] (or uint8 [N, H, W, 3], divided by 255), resized bilinearly to
 * 299 x 299 (align_corners=False, as pytorch-fid always does) and mapped to [-1, 1]. Outputs:
 * <ul>
 *   <li>{@code pool3} [N, 2048], the final average pool (FID, precision and recall);
 *   <li>{@code spatial} [N, 7 x 17 x 17]: the first 7 channels of Mixed_6d's 1x1 branch (after
 *       its BatchNorm and ReLU), laid out height, width, channel. This is the port's counterpart
 *       of the TF graph's {@code mixed_6/conv} that ADM's sFID reads: the TF graph's mixed,
 *       mixed_1, mixed_2 are Mixed_5b-d, mixed_3 is Mixed_6a, so mixed_6 is Mixed_6d, and each
 *       mixed block's plain {@code conv} is its 1x1 branch; ADM keeps [..., :7] of the NHWC tensor
 *       and flattens it;
 *   <li>{@code logits} [N, 1008], fc(pool3). The Inception Score reads
 *       {@link #unbiasedLogits}: ADM multiplies by the head's weight only, without its bias.
 * </ul>
 */
public final class InceptionV3 extends Module {
    /** Input side length of the network. */
    public static final int SIZE = 299;
    /** Widths of the three outputs. */
    public static final int POOL3 = 2048, SPATIAL = 7 * 17 * 17, CLASSES = 1008;

    private final BasicConv2d c1a, c2a, c2b, c3b, c4a;
    private final InceptionBlocks.A m5b, m5c, m5d;
    private final InceptionBlocks.B m6a;
    private final InceptionBlocks.C m6b, m6c, m6d, m6e;
    private final InceptionBlocks.D m7a;
    private final InceptionBlocks.E m7b, m7c;
    private final Tensor fcWeight, fcBias;

    /** pool3, spatial and logits of a batch; closing closes all three. */
    public record Features(Tensor pool3, Tensor spatial, Tensor logits) implements AutoCloseable {
        @Override
        public void close() {
            pool3.close();
            spatial.close();
            logits.close();
        }
    }

    InceptionV3(VarBuilder vb) {
        super(vb);
        c1a = registerModule("Conv2d_1a_3x3", p -> BasicConv2d.square(p, 3, 32, 3, 2, 0));
        c2a = registerModule("Conv2d_2a_3x3", p -> BasicConv2d.square(p, 32, 32, 3, 1, 0));
        c2b = registerModule("Conv2d_2b_3x3", p -> BasicConv2d.square(p, 32, 64, 3, 1, 1));
        c3b = registerModule("Conv2d_3b_1x1", p -> BasicConv2d.square(p, 64, 80, 1, 1, 0));
        c4a = registerModule("Conv2d_4a_3x3", p -> BasicConv2d.square(p, 80, 192, 3, 1, 0));
        m5b = registerModule("Mixed_5b", p -> new InceptionBlocks.A(p, 192, 32));
        m5c = registerModule("Mixed_5c", p -> new InceptionBlocks.A(p, 256, 64));
        m5d = registerModule("Mixed_5d", p -> new InceptionBlocks.A(p, 288, 64));
        m6a = registerModule("Mixed_6a", p -> new InceptionBlocks.B(p, 288));
        m6b = registerModule("Mixed_6b", p -> new InceptionBlocks.C(p, 768, 128));
        m6c = registerModule("Mixed_6c", p -> new InceptionBlocks.C(p, 768, 160));
        m6d = registerModule("Mixed_6d", p -> new InceptionBlocks.C(p, 768, 160));
        m6e = registerModule("Mixed_6e", p -> new InceptionBlocks.C(p, 768, 192));
        m7a = registerModule("Mixed_7a", p -> new InceptionBlocks.D(p, 768));
        m7b = registerModule("Mixed_7b", p -> new InceptionBlocks.E(p, 1280, false));
        m7c = registerModule("Mixed_7c", p -> new InceptionBlocks.E(p, 2048, true));
        Head head = registerModule("fc", Head::new);
        fcWeight = head.weight;
        fcBias = head.bias;
        namedParameters().values().forEach(p -> p.requiresGrad(false)); // a fixed feature extractor
    }

    private static final class Head extends Module {
        final Tensor weight, bias;

        Head(VarBuilder vb) {
            super(vb);
            weight = registerParameter("weight", new long[] {CLASSES, POOL3}, Init.zeros());
            bias = registerParameter("bias", new long[] {CLASSES}, Init.zeros());
        }
    }

    /** An untrained network of zeros on {@code device} (for tests that load weights afterwards). */
    public static InceptionV3 create(Device device) {
        try (Generator g = Generator.cpu(0)) {
            return (InceptionV3) new InceptionV3(VarBuilder.init(DType.FLOAT32, device, g)).eval();
        }
    }

    /**
     * The network with the weights of {@code file} (pytorch-fid's .pth, or the same state dict as
     * safetensors), in float32 on {@code device}. BatchNorm's {@code num_batches_tracked} entries
     * may be present or not; any other missing, unexpected or mis-shaped key is reported.
     */
    public static InceptionV3 load(Path file, Device device) {
        try (WeightSource source = Weights.open(file)) {
            if (!source.keys().contains("Mixed_7c.branch_pool.conv.weight") || !source.keys().contains("fc.weight")) {
                throw new IllegalArgumentException(file + " does not hold Inception v3 weights in torchvision's layout "
                        + "(no 'Mixed_7c.branch_pool.conv.weight' or 'fc.weight'): pass pytorch-fid's "
                        + "pt_inception-2015-12-05-6726825d.pth");
            }
            long[] fc = source.shape("fc.weight");
            if (!Arrays.equals(fc, new long[] {CLASSES, POOL3})) {
                throw new IllegalArgumentException(file + ": 'fc.weight' is " + Arrays.toString(fc) + ", not [1008, 2048]: "
                        + "this is not the FID Inception (torchvision's own ImageNet Inception has 1000 classes)");
            }
            VarBuilder vb = VarBuilder.load(source, DType.FLOAT32, device);
            InceptionV3 net = new InceptionV3(vb);
            try {
                vb.finish(k -> k.endsWith(".num_batches_tracked"));
            } catch (RuntimeException e) {
                net.close();
                throw e;
            }
            return (InceptionV3) net.eval();
        }
    }

    /**
     * Images as the network takes them: uint8 [N, H, W, 3] (ADM's layout) divided by 255, or
     * floating point [N, 3, H, W] in [0, 1] as they are, as float32 on this network's device.
     */
    public Tensor images(Tensor x) {
        Device device = fcWeight.device();
        if (x.dtype() == DType.UINT8) {
            if (x.dim() != 4 || x.size(3) != 3) throw shape(x, "uint8 images [N, H, W, 3]");
            try (TensorScope s = TensorScope.open()) {
                return s.keep(x.to(device).permute(0, 3, 1, 2).to(DType.FLOAT32).div(255.0));
            }
        }
        if (!x.dtype().isFloatingPoint()) throw shape(x, "uint8 [N, H, W, 3] or floating-point [N, 3, H, W] images");
        if (x.dim() != 4 || x.size(1) != 3) throw shape(x, "floating-point images [N, 3, H, W] in [0, 1]");
        return x.to(device, DType.FLOAT32);
    }

    private static IllegalArgumentException shape(Tensor x, String expected) {
        return new IllegalArgumentException("images: expected " + expected + ", found " + x.dtype() + " " + Arrays.toString(x.shape()));
    }

    /** pool3, spatial and logits of images (see {@link #images} for the layouts taken). */
    public Features features(Tensor x) {
        try (TensorScope s = TensorScope.open(); var g = Autograd.noGrad()) {
            Tensor h = Functional.interpolate(images(x), SIZE, SIZE, Functional.Interpolation.BILINEAR, false).mul(2).sub(1);
            h = c2b.forward(c2a.forward(c1a.forward(h)));
            h = Pools.max3x3(h, 2);
            h = Pools.max3x3(c4a.forward(c3b.forward(h)), 2);
            h = m6a.forward(m5d.forward(m5c.forward(m5b.forward(h))));
            h = m6c.forward(m6b.forward(h));
            Tensor branch = m6d.branch1x1(h);
            Tensor spatial = branch.narrow(1, 0, 7).permute(0, 2, 3, 1).flatten(1, -1).contiguous();
            h = m6e.forward(m6d.branches(h, branch));
            h = m7c.forward(m7b.forward(m7a.forward(h)));
            Tensor pool3 = h.mean(new long[] {2, 3}, false);
            Tensor logits = Functional.linear(pool3, fcWeight, fcBias);
            return new Features(s.keep(pool3), s.keep(spatial), s.keep(logits));
        }
    }

    /** pool3 x fc.weight^T, the head without its bias: the logits ADM's Inception Score reads. */
    public Tensor unbiasedLogits(Tensor pool3) {
        return Functional.linear(pool3.to(fcWeight.device(), DType.FLOAT32), fcWeight, null);
    }

    public Device device() {
        return fcWeight.device();
    }
}
