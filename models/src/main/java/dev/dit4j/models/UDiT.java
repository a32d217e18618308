package dev.dit4j.models;

import dev.dit4j.models.embed.AdaLnZero;
import dev.dit4j.models.embed.LabelEmbedder;
import dev.dit4j.models.embed.TimestepEmbedder;
import dev.dit4j.models.udit.Downsample;
import dev.dit4j.models.udit.DownsampledAttention;
import dev.dit4j.models.udit.RepFfn;
import dev.dit4j.models.udit.UDiTBlock;
import dev.dit4j.models.udit.Upsample;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Linear;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * U-DiT: "U-DiTs: Downsample Tokens in U-Shaped Diffusion Transformers", Tian et al., NeurIPS
 * 2024 (arXiv 2405.02730). A U-Net of transformer blocks on latent pixels
 * (3x3 conv stem, no patchify, no absolute positions): stages at widths C, 2C, 4C, 2C, 2C and
 * sides S, S/2, S/4, S/2, S, each block two pairs of downsampled self-attention
 * ({@link DownsampledAttention}) and re-parameterisable FFN ({@link RepFfn}) under adaLN-Zero;
 * three timestep + label conditioning pairs at widths C, 2C, 4C, each with its own label dropout.
 *
 * <p>Parameter names and order follow the authors' {@code udit_models.py}, so released
 * checkpoints (training form) load with a strict {@link #loadStateDict}. {@link #reparameterize()}
 * switches the FFNs to their merged inference form for eval-mode forwards; unlike the authors'
 * in-place merge it writes fresh tensors, so it may be called any number of times.
 */
public final class UDiT extends DiffusionModel<UDiT.Config> {
    /**
     * A U-DiT configuration. {@code depths} counts U_DiTBlocks per stage (enc1, enc2, latent,
     * dec2, dec1); heads are the same at every stage; the FFN hidden width is (int)(D * mlpRatio).
     * {@code inputSize} is the latent side it is trained and sampled at (32 for 256 px images); the
     * network itself takes any side that {@link #sideProblem} accepts, as it has no position table.
     */
    @RecordBuilder
    public record Config(String name, int baseWidth, int heads, List<Integer> depths, double mlpRatio, int inChannels,
                         int numClasses, boolean learnSigma, double classDropout, int downFactor, int inputSize)
            implements DiffusionConfig<UDiT>, UDiTConfigBuilder.With {
        public Config {
            depths = List.copyOf(depths);
            if (depths.size() != 5 || depths.stream().anyMatch(d -> d < 0)) {
                throw new IllegalArgumentException("depths must be 5 non-negative stage depths (enc1, enc2, latent, dec2, dec1), got " + depths);
            }
            if (baseWidth <= 0 || baseWidth % 2 != 0) throw new IllegalArgumentException("base width must be positive and even, got " + baseWidth);
            if (heads <= 0 || baseWidth % heads != 0) throw new IllegalArgumentException("base width " + baseWidth + " not divisible by " + heads + " heads");
            if ((baseWidth / heads) % 4 != 0) throw new IllegalArgumentException("head width " + baseWidth / heads + " at stage 1 must be divisible by 4 (2-d RoPE)");
            if (inChannels <= 0 || numClasses <= 0) throw new IllegalArgumentException("inChannels and numClasses must be positive");
            if (downFactor < 1) throw new IllegalArgumentException("down factor must be >= 1, got " + downFactor);
            if (classDropout < 0 || classDropout >= 1) throw new IllegalArgumentException("class dropout must be in [0, 1), got " + classDropout);
            String problem = sideProblem(inputSize, downFactor); // the fields are not assigned yet
            if (problem != null) throw new IllegalArgumentException(problem);
        }

        @Override
        public int side() {
            return inputSize;
        }

        /** U-DiT's depth is per stage ({@link #withDepths}): only the classes can be overridden here. */
        @Override
        public Config overridden(Integer blocks, Integer classes) {
            if (blocks != null) throw new IllegalArgumentException("a depth applies to DiT, U-ViT and MicroDiT, not to U-DiT " + name + " (depths per stage)");
            return classes == null ? this : withNumClasses(classes);
        }

        @Override
        public Config resized(int channels, int side) {
            return withInChannels(channels).withInputSize(side);
        }

        public int outChannels() {
            return learnSigma ? 2 * inChannels : inChannels;
        }

        /** Block widths per stage: C, 2C, 4C, 2C, 2C. */
        public int[] widths() {
            return new int[] {baseWidth, 2 * baseWidth, 4 * baseWidth, 2 * baseWidth, 2 * baseWidth};
        }

        /** Why a latent side does not fit (null when it does): two 2x resamplings, then the down factor at each stage. */
        public String sideProblem(long side) {
            return sideProblem(side, downFactor);
        }

        private static String sideProblem(long side, int downFactor) {
            if (side <= 0 || side % 4 != 0) return "latent side " + side + " must be a positive multiple of 4";
            for (long s : new long[] {side, side / 2, side / 4}) {
                if (s % downFactor != 0) return "latent side " + side + " gives a stage side " + s + " not divisible by the down factor " + downFactor;
            }
            return null;
        }

        /** Parameters of the training form (as stored in checkpoints). */
        public long parameterCount() {
            return count(false);
        }

        /** Parameters after the FFN re-parameterisation (the paper's reported sizes). */
        public long mergedParameterCount() {
            return count(true);
        }

        private long count(boolean merged) {
            long c = baseWidth;
            long n = inChannels * c * 9 + c;
            long rows = numClasses + (classDropout > 0 ? 1 : 0);
            for (long w : new long[] {c, 2 * c, 4 * c}) n += 256 * w + w + w * w + w + rows * w;
            int[] widths = widths();
            for (int i = 0; i < 5; i++) n += depths.get(i) * blockCount(widths[i], merged);
            n += c * (c / 2) * 9 + 2 * c * c * 9;                       // down1_2, down2_3
            n += 4 * c * 8 * c * 9 + 4 * c * 2 * c + 2 * c;             // up3_2, reduce_chan_level2
            n += 2 * c * 4 * c * 9 + 2 * c * 2 * c + 2 * c;             // up2_1, reduce_chan_level1
            n += 2 * c * 2 * c * 9 + 2 * c;                             // output
            n += outChannels() * 2 * c * 9 + outChannels() + 2 * c * 4 * c + 4 * c; // final layer
            return n;
        }

        private long blockCount(long d, boolean merged) {
            long h = (int) (d * mlpRatio), half = h / 2;
            long attn = heads + d * 3 * d + 3 * d + d * d + d + d * 25 + d;
            long ffn = merged ? d * h + h + h * 25 + h + h * d + d
                    : d * half + half + half * h + h + h * 25 + h + h * 9 + h + 2 * h + h * half + half + half * d + d;
            return 2 * (attn + ffn + d * 6 * d + 6 * d);
        }

        public Config withDepths(int enc1, int enc2, int latent, int dec2, int dec1) {
            return withDepths(List.of(enc1, enc2, latent, dec2, dec1));
        }

        public Config withBaseWidth(int width, int headCount) {
            return with(b -> b.baseWidth(width).heads(headCount));
        }

        @Override
        public UDiT build(VarBuilder vb) {
            return new UDiT(vb, this);
        }
    }

    private static Config preset(String name, int width, int heads) {
        return new Config(name, width, heads, List.of(2, 5, 8, 5, 2), 2.0, 4, 1000, true, 0.1, 2, 32);
    }

    public static final Config S = preset("U-DiT-S", 96, 4);
    public static final Config B = preset("U-DiT-B", 192, 8);
    public static final Config L = preset("U-DiT-L", 384, 16);
    /** The presets by "U-DiT-S", "S", "u-dit-b", ... */
    public static final PresetRegistry<Config> PRESETS = new PresetRegistry<>("U-DiT", List.of(S, B, L));

    private final Conv2d stem;
    private final TimestepEmbedder[] tEmbedders = new TimestepEmbedder[3];
    private final LabelEmbedder[] yEmbedders = new LabelEmbedder[3];
    private final List<UDiTBlock> enc1, enc2, latent, dec2, dec1;
    private final Downsample down12, down23;
    private final Upsample up32, up21;
    private final Conv2d reduce2, reduce1, output, outProj;
    private final Linear finalAdaLN;

    public UDiT(VarBuilder vb, Config config) {
        super(vb, config);
        int c = config().baseWidth();
        int[] w = config().widths();
        stem = registerModule("x_embedder.proj", Conv2d.of(config().inChannels(), c, 3).samePadding().xavierFlat());
        for (int k = 0; k < 3; k++) {
            int width = c << k;
            tEmbedders[k] = registerModule("t_embedder_" + (k + 1), p -> new TimestepEmbedder(p, width));
            yEmbedders[k] = registerModule("y_embedder_" + (k + 1), p -> new LabelEmbedder(p, config().numClasses(), width, config().classDropout()));
        }
        enc1 = stage("encoder_level_1", 0, w[0]);
        down12 = registerModule("down1_2", p -> new Downsample(p, c));
        enc2 = stage("encoder_level_2", 1, w[1]);
        down23 = registerModule("down2_3", p -> new Downsample(p, 2 * c));
        latent = stage("latent", 2, w[2]);
        up32 = registerModule("up3_2", p -> new Upsample(p, 4 * c));
        reduce2 = registerModule("reduce_chan_level2", Conv2d.of(4 * c, 2 * c, 1).xavier());
        dec2 = stage("decoder_level_2", 3, w[3]);
        up21 = registerModule("up2_1", p -> new Upsample(p, 2 * c));
        reduce1 = registerModule("reduce_chan_level1", Conv2d.of(2 * c, 2 * c, 1).xavier());
        dec1 = stage("decoder_level_1", 4, w[4]);
        output = registerModule("output", Conv2d.of(2 * c, 2 * c, 3).samePadding().xavier());
        // the final layer: channel LayerNorm, adaLN shift/scale from SiLU(c2), 3x3 conv to the output channels
        outProj = registerModule("final_layer.out_proj", Conv2d.of(2 * c, config().outChannels(), 3).samePadding().zero());
        finalAdaLN = registerModule("final_layer.adaLN_modulation.1", Linear.of(2L * c, 4L * c).zero());
    }

    private List<UDiTBlock> stage(String name, int index, int width) {
        if (width % config().heads() != 0 || (width / config().heads()) % 4 != 0) {
            throw new IllegalArgumentException("stage width " + width + " with " + config().heads() + " heads needs a head width divisible by 4");
        }
        ModuleList<UDiTBlock> list = registerModule(name, ModuleList::new);
        for (int i = 0; i < config().depths().get(index); i++) {
            list.add(new UDiTBlock.Options(width, config().heads(), config().mlpRatio(), config().downFactor()));
        }
        return list.items();
    }

    /** Class labels are the only conditioning U-DiT takes. */
    @Override
    public Tensor forward(Tensor x, Tensor t, Conditioning c) {
        return forward(x, t, labelsOf(c));
    }

    /** Every block in state-dict order (enc1, enc2, latent, dec2, dec1). */
    public List<UDiTBlock> blocks() {
        List<UDiTBlock> all = new ArrayList<>(enc1);
        all.addAll(enc2);
        all.addAll(latent);
        all.addAll(dec2);
        all.addAll(dec1);
        return all;
    }

    /**
     * x [N, inC, S, S'] latents (sides multiples of 4 whose stage sides divide by the down factor;
     * 8 for the presets), t [N] timesteps (0..999, may be fractional), y [N] int64 labels in
     * [0, numClasses] (numClasses = null) -> [N, outC, S, S']. In training mode each of the three
     * label embedders drops labels to the null label independently with probability classDropout.
     */
    public Tensor forward(Tensor x, Tensor t, Tensor y) {
        checkInputs(x, t, y);
        try (TensorScope s = TensorScope.open()) {
            boolean train = isTraining();
            Tensor[] c = new Tensor[3];
            for (int k = 0; k < 3; k++) c[k] = tEmbedders[k].forward(t).add(yEmbedders[k].forward(y, train));
            Tensor e1 = run(enc1, stem.forward(x), c[0]);
            Tensor e2 = run(enc2, down12.forward(e1), c[1]);
            Tensor mid = run(latent, down23.forward(e2), c[2]);
            Tensor d2 = run(dec2, reduce2.forward(Tensor.cat(List.of(up32.forward(mid), e2), 1)), c[1]);
            Tensor d1 = run(dec1, reduce1.forward(Tensor.cat(List.of(up21.forward(d2), e1), 1)), c[1]);
            Tensor h = output.forward(d1);
            AdaLnZero.ShiftScale m = AdaLnZero.ShiftScale.of(finalAdaLN.forward(c[1].silu()));
            Tensor out = outProj.forward(UDiTBlock.modulate(UDiTBlock.layerNorm2d(h), m.shift(), m.scale()));
            return s.keep(out);
        }
    }

    private static Tensor run(List<UDiTBlock> blocks, Tensor x, Tensor c) {
        for (UDiTBlock b : blocks) x = b.forward(x, c);
        return x;
    }

    private void checkInputs(Tensor x, Tensor t, Tensor y) {
        long[] s = x.shape();
        if (s.length != 4 || s[1] != config().inChannels()) {
            throw new IllegalArgumentException(config().name() + " expects x [N, " + config().inChannels() + ", H, W], got " + java.util.Arrays.toString(s));
        }
        for (int i = 2; i < 4; i++) {
            String problem = config().sideProblem(s[i]);
            if (problem != null) throw new IllegalArgumentException(config().name() + ": " + problem);
        }
        if (t.dim() != 1 || t.size(0) != s[0]) throw new IllegalArgumentException("t must be [" + s[0] + "], got " + java.util.Arrays.toString(t.shape()));
        if (y.dim() != 1 || y.size(0) != s[0]) throw new IllegalArgumentException("y must be [" + s[0] + "], got " + java.util.Arrays.toString(y.shape()));
        if (y.dtype() != DType.INT64) throw new IllegalArgumentException("labels must be int64, got " + y.dtype());
        // The range is read back only from CPU labels: on a GPU it would sync the device every
        // forward, and libtorch's embedding reports an out-of-range index there itself.
        if (y.numel() > 0 && y.device().equals(Device.CPU)) {
            try (Tensor lo = y.min(); Tensor hi = y.max()) {
                long min = lo.itemLong(), max = hi.itemLong();
                int top = config().numClasses() - (config().classDropout() > 0 ? 0 : 1);
                if (min < 0 || max > top) {
                    throw new IllegalArgumentException("labels must lie in [0, " + top + "] (" + config().numClasses()
                            + (config().classDropout() > 0 ? " = null label" : " classes") + "), got [" + min + ", " + max + "]");
                }
            }
        }
    }

    /** As DiT's authors' forward_with_cfg, which U-DiT's sample_ddp.py uses: 3 of SD's 4 latent channels guided. */
    @Override
    protected int guidedChannels() {
        return DiT.authorsGuidedChannels(config().inChannels());
    }

    /**
     * Computes every FFN's merged inference weights from the current parameters (fresh tensors;
     * the parameters and the state dict keep the training form) and puts the model in eval mode,
     * where forwards use them. Calling it again recomputes the same weights. {@code train(true)}
     * or loading a state dict returns to the training form.
     */
    public UDiT reparameterize() {
        for (UDiTBlock b : blocks()) {
            b.ffn(0).reparameterize();
            b.ffn(1).reparameterize();
        }
        eval();
        return this;
    }

    /** The merged FFNs, as the authors sample. */
    @Override
    public void inferenceMode() {
        reparameterize();
    }

    /** True when the FFNs carry merged weights (used in eval mode). */
    public boolean isReparameterized() {
        List<UDiTBlock> all = blocks();
        return !all.isEmpty() && all.stream().allMatch(b -> b.ffn(0).merged() != null && b.ffn(1).merged() != null);
    }

    /** Parameters of the inference form: merged FFNs instead of their training-form weights. */
    public long mergedParameterCount() {
        return config().mergedParameterCount();
    }

    /** Loads strictly or not, as {@link dev.dit4j.nn.Module#loadStateDict(Map, boolean, UnaryOperator)}; merged FFN weights are dropped, since they would be stale. */
    @Override
    public void loadStateDict(Map<String, Tensor> state, boolean strict, UnaryOperator<String> rename) {
        for (UDiTBlock b : blocks()) {
            b.ffn(0).dropReparameterization();
            b.ffn(1).dropReparameterization();
        }
        super.loadStateDict(state, strict, rename);
    }
}
