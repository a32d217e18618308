package dev.dit4j.models;

import dev.dit4j.models.embed.AdaLnZero;
import dev.dit4j.models.embed.Embeddings;
import dev.dit4j.models.embed.LabelEmbedder;
import dev.dit4j.models.embed.TimestepEmbedder;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Gelu;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.Mlp;
import dev.dit4j.nn.layers.SelfAttention;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.List;

/**
 * DiT: "Scalable Diffusion Models with Transformers", Peebles and Xie, arXiv 2212.09748.
 * Patchified latents with fixed 2-d sin-cos positions, adaLN-Zero blocks conditioned on
 * timestep + class, learned sigma. Parameter names follow facebookresearch/DiT so the released
 * checkpoints load unchanged.
 */
public final class DiT extends DiffusionModel<DiT.Config> {
    /** A DiT configuration; the presets are the paper's 12 (latent 4x32x32, 1000 classes). */
    @RecordBuilder
    public record Config(String name, int depth, int hidden, int heads, int patch, double mlpRatio, int inChannels,
                         int inputSize, int numClasses, boolean learnSigma, double classDropout)
            implements DiffusionConfig<DiT>, DiTConfigBuilder.With {
        public Config {
            if (hidden % heads != 0) throw new IllegalArgumentException("hidden " + hidden + " not divisible by heads " + heads);
            if (inputSize % patch != 0) throw new IllegalArgumentException("input size " + inputSize + " not divisible by patch " + patch);
            if (hidden % 4 != 0) throw new IllegalArgumentException("hidden must be divisible by 4 for the position table");
        }

        public int outChannels() {
            return learnSigma ? 2 * inChannels : inChannels;
        }

        @Override
        public int side() {
            return inputSize;
        }

        @Override
        public Config overridden(Integer blocks, Integer classes) {
            Config c = blocks == null ? this : withDepth(blocks);
            return classes == null ? c : c.withNumClasses(classes);
        }

        @Override
        public Config resized(int channels, int side) {
            return withInChannels(channels).withInputSize(side);
        }

        public int tokens() {
            return (inputSize / patch) * (inputSize / patch);
        }

        @Override
        public DiT build(VarBuilder vb) {
            return new DiT(vb, this);
        }
    }

    private static Config preset(String name, int depth, int hidden, int heads, int patch) {
        return new Config(name, depth, hidden, heads, patch, 4.0, 4, 32, 1000, true, 0.1);
    }

    public static final Config S_2 = preset("DiT-S/2", 12, 384, 6, 2);
    public static final Config S_4 = preset("DiT-S/4", 12, 384, 6, 4);
    public static final Config S_8 = preset("DiT-S/8", 12, 384, 6, 8);
    public static final Config B_2 = preset("DiT-B/2", 12, 768, 12, 2);
    public static final Config B_4 = preset("DiT-B/4", 12, 768, 12, 4);
    public static final Config B_8 = preset("DiT-B/8", 12, 768, 12, 8);
    public static final Config L_2 = preset("DiT-L/2", 24, 1024, 16, 2);
    public static final Config L_4 = preset("DiT-L/4", 24, 1024, 16, 4);
    public static final Config L_8 = preset("DiT-L/8", 24, 1024, 16, 8);
    public static final Config XL_2 = preset("DiT-XL/2", 28, 1152, 16, 2);
    public static final Config XL_4 = preset("DiT-XL/4", 28, 1152, 16, 4);
    public static final Config XL_8 = preset("DiT-XL/8", 28, 1152, 16, 8);
    /** The 12 presets, by "DiT-XL/2", "XL_2", "dit-xl-2", ... */
    public static final PresetRegistry<Config> PRESETS = new PresetRegistry<>("DiT",
            List.of(S_2, S_4, S_8, B_2, B_4, B_8, L_2, L_4, L_8, XL_2, XL_4, XL_8));

    private final PatchEmbed xEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final LabelEmbedder yEmbedder;
    private final Tensor posEmbed;
    private final List<Block> blocks;
    private final FinalLayer finalLayer;

    public DiT(VarBuilder vb, Config config) {
        super(vb, config);
        int d = config.hidden();
        xEmbedder = registerModule("x_embedder", p -> new PatchEmbed(p, config));
        tEmbedder = registerModule("t_embedder", p -> new TimestepEmbedder(p, d));
        yEmbedder = registerModule("y_embedder", p -> new LabelEmbedder(p, config.numClasses(), d, config.classDropout()));
        int grid = config.inputSize() / config.patch();
        posEmbed = registerFrozenParameter("pos_embed", new long[] {1, config.tokens(), d}, (t, g) -> {
            try (Tensor table = Embeddings.sincos2d(d, grid, 1)) {
                t.copy_(table);
            }
        });
        ModuleList<Block> list = registerModule("blocks", ModuleList::new);
        for (int i = 0; i < config.depth(); i++) list.add(p -> new Block(p, config));
        blocks = list.items();
        finalLayer = registerModule("final_layer", p -> new FinalLayer(p, config));
    }

    /** Class labels are the only conditioning DiT takes. */
    @Override
    public Tensor forward(Tensor x, Tensor t, Conditioning c) {
        return forward(x, t, labelsOf(c));
    }

    /**
     * x [N, C, H, W] latents, t [N] timesteps (0..999, may be fractional), y [N] int64 labels
     * (numClasses = the null label) -> [N, outC, H, W]. In training mode labels are dropped
     * to the null label with probability classDropout.
     */
    public Tensor forward(Tensor x, Tensor t, Tensor y) {
        try (TensorScope s = TensorScope.open()) {
            Tensor tokens = xEmbedder.forward(x).add(posEmbed);
            Tensor c = tEmbedder.forward(t).add(yEmbedder.forward(y, isTraining()));
            for (Block b : blocks) tokens = b.forward(tokens, c);
            return s.keep(unpatchify(finalLayer.forward(tokens, c), x.size(2), x.size(3)));
        }
    }

    /** The authors guide 3 of the 4 latent channels (their forward_with_cfg keeps 3 "for exact reproducibility"); other inputs every channel. */
    @Override
    protected int guidedChannels() {
        return authorsGuidedChannels(config().inChannels());
    }

    /** DiT's and U-DiT's guided channels: 3 of SD's 4 latent channels, as the authors; every epsilon channel otherwise. */
    static int authorsGuidedChannels(int inChannels) {
        return inChannels == 4 ? 3 : inChannels;
    }

    private Tensor unpatchify(Tensor x, long height, long width) {
        int p = config().patch();
        int c = config().outChannels();
        long h = height / p, w = width / p;
        return x.reshape(x.size(0), h, w, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(x.size(0), c, h * p, w * p);
    }

    /** Conv patch embedding: [N, C, H, W] -> [N, T, D] (key x_embedder.proj). */
    static final class PatchEmbed extends Module {
        private final Conv2d proj;

        PatchEmbed(VarBuilder vb, Config cfg) {
            super(vb);
            proj = registerModule("proj", Conv2d.patchify(cfg.inChannels(), cfg.hidden(), cfg.patch()).xavierFlat());
        }

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                return s.keep(proj.forward(x).flatten(2, 3).transpose(1, 2));
            }
        }
    }

    /** The authors' LayerNorm(elementwise_affine=False, eps=1e-6) before each modulation, fused with it here. */
    private static final double NORM_EPS = 1e-6;

    /** adaLN-Zero transformer block (keys attn.*, mlp.*, adaLN_modulation.1.*). */
    static final class Block extends Module {
        private final SelfAttention attn;
        private final Mlp mlp;
        private final Linear adaLN;

        Block(VarBuilder vb, Config cfg) {
            super(vb);
            int d = cfg.hidden();
            attn = registerModule("attn", SelfAttention.of(d, cfg.heads()).withQkvBias(true).withLinears(Linear.Options::xavier));
            mlp = registerModule("mlp", Mlp.of(d, (long) (d * cfg.mlpRatio())).withGelu(Gelu.TANH).withLinears(Linear.Options::xavier));
            adaLN = registerModule("adaLN_modulation.1", Linear.of(d, 6L * d).zero());
        }

        Tensor forward(Tensor x, Tensor c) {
            try (TensorScope s = TensorScope.open()) {
                AdaLnZero m = AdaLnZero.of(adaLN.forward(c.silu()));
                x = Functional.gatedResidual(x, m.gateMsa(), attn.forward(Functional.lnModulate(x, m.shiftMsa(), m.scaleMsa(), NORM_EPS)));
                x = Functional.gatedResidual(x, m.gateMlp(), mlp.forward(Functional.lnModulate(x, m.shiftMlp(), m.scaleMlp(), NORM_EPS)));
                return s.keep(x);
            }
        }
    }

    /** Final norm, adaLN shift/scale and the linear head to p*p*outC per token. */
    static final class FinalLayer extends Module {
        private final Linear linear, adaLN;

        FinalLayer(VarBuilder vb, Config cfg) {
            super(vb);
            linear = registerModule("linear", Linear.of(cfg.hidden(), (long) cfg.patch() * cfg.patch() * cfg.outChannels()).zero());
            adaLN = registerModule("adaLN_modulation.1", Linear.of(cfg.hidden(), 2L * cfg.hidden()).zero());
        }

        Tensor forward(Tensor x, Tensor c) {
            try (TensorScope s = TensorScope.open()) {
                AdaLnZero.ShiftScale m = AdaLnZero.ShiftScale.of(adaLN.forward(c.silu()));
                return s.keep(linear.forward(Functional.lnModulate(x, m.shift(), m.scale(), NORM_EPS)));
            }
        }
    }
}
