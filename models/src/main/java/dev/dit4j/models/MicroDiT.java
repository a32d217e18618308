package dev.dit4j.models;

import dev.dit4j.models.embed.AdaLnZero;
import dev.dit4j.models.embed.Embeddings;
import dev.dit4j.models.microdit.ExpertChoiceMoe;
import dev.dit4j.models.microdit.GeluMlp;
import dev.dit4j.models.microdit.MicroDiTBlock;
import dev.dit4j.models.microdit.PromptBlock;
import dev.dit4j.models.microdit.SwiGlu;
import dev.dit4j.models.embed.TimestepEmbedder;
import dev.dit4j.models.microdit.TokenMask;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * MicroDiT: "Stretching Each Dollar: Diffusion Training from Scratch on a Micro-Budget", Sehwag
 * et al., arXiv 2407.15811. A text-to-image DiT conditioned on caption tokens through
 * cross-attention, with a patch mixer that sees every token before deferred masking drops most
 * of them (training), attention and FFN widths growing with depth, an expert-choice MoE FFN in
 * every second block, and EDM's network input (t = ln(sigma) / 4). Keys follow
 * SonyResearch/micro_diffusion's DiT so its released state dicts load unchanged.
 */
public final class MicroDiT extends DiffusionModel<MicroDiT.Config> {
    /**
     * A MicroDiT configuration. Block i of {@code depth} has qkv ratio and MLP ratio spaced
     * linearly from {@code qkvRatio}/{@code mlpRatio} [0] to [1]; the patch mixer's
     * {@code mixerDepth} blocks are {@code mixerDim} wide with qkv ratio 1. Every
     * {@code expertsEveryN}-th block (never the backbone's last) is a MoE of {@code experts}
     * experts. {@code posInterpScale} divides the position coordinates (1 at 256 px, 2 at 512 px).
     */
    @RecordBuilder
    public record Config(String name, int inputSize, int patch, int inChannels, int dim, int depth, int headDim, int multipleOf,
                         int captionChannels, double posInterpScale, double qkvRatioStart, double qkvRatioEnd,
                         double mlpRatioStart, double mlpRatioEnd, int mixerDepth, int mixerDim, double mixerMlpRatio,
                         int experts, double expertCapacity, int expertsEveryN)
            implements DiffusionConfig<MicroDiT>, MicroDiTConfigBuilder.With {
        public Config {
            if (inputSize % patch != 0) throw new IllegalArgumentException("input size " + inputSize + " not divisible by patch " + patch);
            if (dim % headDim != 0 || mixerDim % headDim != 0) {
                throw new IllegalArgumentException("widths " + dim + " and " + mixerDim + " must be multiples of the head dim " + headDim);
            }
            if (dim % 4 != 0) throw new IllegalArgumentException("dim must be divisible by 4 for the position table");
            if (!(posInterpScale > 0)) throw new IllegalArgumentException("pos_interp_scale must be positive, got " + posInterpScale);
            if (depth < 1 || mixerDepth < 0 || expertsEveryN < 1) throw new IllegalArgumentException("need depth >= 1, mixer depth >= 0, experts_every_n >= 1");
        }

        @Override
        public int numClasses() {
            return 0;
        }

        public int outChannels() {
            return inChannels;
        }

        @Override
        public int side() {
            return inputSize;
        }

        @Override
        public int captionWidth() {
            return captionChannels;
        }

        /** Any number: MicroDiT attends to its caption tokens. */
        @Override
        public int captionTokens() {
            return -1;
        }

        /** MicroDiT is conditioned on captions: only its depth can be overridden. */
        @Override
        public Config overridden(Integer blocks, Integer classes) {
            if (classes != null) throw new IllegalArgumentException(name + " is conditioned on captions; it has no classes");
            return blocks == null ? this : withDepth(blocks);
        }

        /** pos_embed is a buffer of the state dict: a loaded 512 px model brings its interpolated table. */
        @Override
        public Config resized(int channels, int side) {
            return withInChannels(channels).withInputSize(side);
        }

        public int grid() {
            return inputSize / patch;
        }

        public int tokens() {
            return grid() * grid();
        }

        /** Ratio i of {@code depth} spaced linearly from start to end (np.linspace in float64). */
        private double spaced(double start, double end, int i) {
            if (depth == 1) return start;
            return i == depth - 1 ? end : i * ((end - start) / (depth - 1)) + start;
        }

        /** Self-attention width of backbone block i: dim at ratio 1, else int(dim r) rounded up to 2 head dims. */
        public long qkvHidden(int i) {
            double r = spaced(qkvRatioStart, qkvRatioEnd, i);
            long twoHeads = 2L * headDim;
            return r == 1 ? dim : twoHeads * (((long) (dim * r) + twoHeads - 1) / twoHeads);
        }

        /** The un-rounded MLP width of backbone block i: int(dim r). */
        long mlpHidden(int i) {
            return (long) (dim * spaced(mlpRatioStart, mlpRatioEnd, i));
        }

        /** Backbone block i is a MoE: every N-th, never the last. */
        public boolean moe(int i) {
            return i < depth - 1 && (i + 1) % expertsEveryN == 0;
        }

        /** Mixer block i is a MoE: every N-th from the second on. */
        public boolean mixerMoe(int i) {
            return i >= 1 && (i + 1) % expertsEveryN == 0;
        }

        MicroDiTBlock.Options block(int i) {
            long ffn = moe(i) ? ExpertChoiceMoe.hiddenOf(mlpHidden(i), multipleOf) : SwiGlu.hiddenOf(mlpHidden(i), multipleOf);
            return new MicroDiTBlock.Options(dim, headDim, qkvHidden(i), ffn, moe(i), experts, expertCapacity, dim,
                    0.02 / Math.sqrt(2.0 * (i + 1)));
        }

        MicroDiTBlock.Options mixerBlock(int i) {
            long mlp = (long) (mixerDim * mixerMlpRatio);
            long ffn = mixerMoe(i) ? ExpertChoiceMoe.hiddenOf(mlp, multipleOf) : SwiGlu.hiddenOf(mlp, multipleOf);
            return new MicroDiTBlock.Options(mixerDim, headDim, mixerDim, ffn, mixerMoe(i), experts, expertCapacity, dim,
                    0.02 / Math.sqrt(2.0 * depth));
        }

        @Override
        public MicroDiT build(VarBuilder vb) {
            return new MicroDiT(vb, this);
        }
    }

    private static Config preset(String name, int dim, int depth, int headDim, int mixerDepth, int mixerDim) {
        return new Config(name, 32, 2, 4, dim, depth, headDim, 256, 1024, 1.0, 0.5, 1.0, 0.5, 4.0, mixerDepth, mixerDim, 4.0,
                8, 2.0, 2);
    }

    /** 200.69M parameters (4-channel latents, 1024-wide captions). */
    public static final Config TINY_2 = preset("MicroDiT_Tiny_2", 512, 16, 32, 4, 512);
    /** 1,165.44M parameters, the paper's model. */
    public static final Config XL_2 = preset("MicroDiT_XL_2", 1024, 28, 64, 6, 768);
    /** XL on 16-channel latents (Ostris vae-kl-f8-d16), as dit_16_channel_37M_real_and_synthetic_data.pt. */
    public static final Config XL_2_16CH = XL_2.withName("MicroDiT_XL_2_16ch").withInChannels(16);
    /** By "MicroDiT_XL_2", "microdit-xl-2", "XL_2", ... */
    public static final PresetRegistry<Config> PRESETS = new PresetRegistry<>("MicroDiT", List.of(TINY_2, XL_2, XL_2_16CH),
            Map.of("MicroDiT_XL_2_16", XL_2_16CH));

    private final Conv2d xEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final Tensor posEmbed;
    private final GeluMlp yEmbedder;
    private final PromptBlock yPreprocess;
    private final GeluMlp pooled;
    private final List<MicroDiTBlock> mixer;
    private final MapLayer mapXin, mapXout, mapY;
    private final List<MicroDiTBlock> blocks;
    private final Tensor maskToken;
    private final FinalLayer finalLayer;

    public MicroDiT(VarBuilder vb, Config config) {
        super(vb, config);
        int d = config.dim(), grid = config.grid();
        // the stem keeps PyTorch's default bias (the authors re-zero only Linear biases)
        xEmbedder = registerModule("x_embedder.proj", Conv2d.patchify(config.inChannels(), d, config.patch()).withWeightInit(Init.xavierUniformFlat()));
        tEmbedder = registerModule("t_embedder", p -> TimestepEmbedder.microDiT(p, d));
        posEmbed = registerBuffer("pos_embed", new long[] {1, config.tokens(), d}, (t, g) -> {
            try (Tensor table = Embeddings.sincos2d(d, grid, config.posInterpScale())) {
                t.copy_(table);
            }
        });
        yEmbedder = registerModule("y_embedder.y_proj", p -> new GeluMlp(p, config.captionChannels(), d));
        yPreprocess = registerModule("y_emb_preprocess", p -> new PromptBlock(p, d, config.headDim(), config.multipleOf()));
        pooled = registerModule("pooled_y_emb_process", p -> new GeluMlp(p, d, d));
        ModuleList<MicroDiTBlock> mixerList = registerModule("patch_mixer", ModuleList::new);
        for (int i = 0; i < config.mixerDepth(); i++) mixerList.add(config.mixerBlock(i));
        mixer = mixerList.items();
        boolean mapped = config.mixerDim() != d && config.mixerDepth() > 0;
        mapXin = mapped ? registerModule("patch_mixer_map_xin", p -> new MapLayer(p, d, config.mixerDim())) : null;
        mapXout = mapped ? registerModule("patch_mixer_map_xout", p -> new MapLayer(p, config.mixerDim(), d)) : null;
        mapY = mapped ? registerModule("patch_mixer_map_y", p -> new MapLayer(p, d, config.mixerDim())) : null;
        ModuleList<MicroDiTBlock> list = registerModule("blocks", ModuleList::new);
        for (int i = 0; i < config.depth(); i++) list.add(config.block(i));
        blocks = list.items();
        maskToken = registerBuffer("mask_token", new long[] {1, 1, (long) config.patch() * config.patch() * config.outChannels()}, Init.zeros());
        finalLayer = registerModule("final_layer", p -> new FinalLayer(p, config));
    }

    /** Caption tokens [N, S, captionChannels] (a text mask, if any, is not used: the authors attend to every token). */
    @Override
    public Tensor forward(Tensor x, Tensor t, Conditioning c) {
        return forward(x, t, captionOf(c), null);
    }

    /** Deferred masking: {@code keep} [N, K] token indices (see {@link TokenMask}), or null. */
    @Override
    public Tensor forward(Tensor x, Tensor t, Conditioning c, Tensor keep) {
        return forward(x, t, captionOf(c), keep);
    }

    /**
     * x [N, C, H, W] (c_in x_sigma), t [N] or [1] (c_noise = ln(sigma) / 4), caption tokens
     * y [N, S, D] or [N, 1, S, D]; {@code keep} [N, K] int64 token indices (see {@link TokenMask})
     * masks all other tokens after the patch mixer, or null for none. -> [N, C, H, W]; masked
     * tokens come out as mask_token.
     */
    public Tensor forward(Tensor x, Tensor t, Tensor y, Tensor keep) {
        checkInputs(x, t, y);
        try (TensorScope s = TensorScope.open()) {
            long n = x.size(0);
            Tensor tokens = xEmbedder.forward(x).flatten(2, 3).transpose(1, 2).add(posEmbed);
            Tensor time = tEmbedder.forward(t.reshape(-1).expand(n));
            Tensor caption = yPreprocess.forward(yEmbedder.forward(y.reshape(n, y.size(-2), y.size(-1))));
            Tensor c = time.add(pooled.forward(caption.mean(1, false)));
            if (!mixer.isEmpty()) {
                Tensor mixerCaption = mapY == null ? caption : mapY.forward(caption);
                if (mapXin != null) tokens = mapXin.forward(tokens);
                for (MicroDiTBlock b : mixer) tokens = b.forward(tokens, mixerCaption, c);
            }
            if (keep != null) tokens = TokenMask.gather(tokens, keep);
            if (mapXout != null) tokens = mapXout.forward(tokens);
            for (MicroDiTBlock b : blocks) tokens = b.forward(tokens, caption, c);
            Tensor out = finalLayer.forward(tokens, c);
            if (keep != null) out = TokenMask.restore(out, keep, config().tokens(), maskToken);
            return s.keep(unpatchify(out));
        }
    }

    private Tensor captionOf(Conditioning c) {
        if (c instanceof Conditioning.Text text) return text.tokens();
        throw new IllegalArgumentException(config().name() + " is conditioned on caption tokens; got " + c.getClass().getSimpleName() + " conditioning");
    }

    private void checkInputs(Tensor x, Tensor t, Tensor y) {
        Config cfg = config();
        if (x.dim() != 4 || x.size(1) != cfg.inChannels() || x.size(2) != cfg.inputSize() || x.size(3) != cfg.inputSize()) {
            throw new IllegalArgumentException(cfg.name() + " takes x [N, " + cfg.inChannels() + ", " + cfg.inputSize() + ", " + cfg.inputSize()
                    + "]; got " + Arrays.toString(x.shape()));
        }
        long n = x.size(0);
        if (t.numel() != 1 && t.numel() != n) throw new IllegalArgumentException("t must hold 1 or N = " + n + " values; got " + Arrays.toString(t.shape()));
        boolean shaped = (y.dim() == 3 || (y.dim() == 4 && y.size(1) == 1)) && y.size(0) == n && y.size(-1) == cfg.captionChannels();
        if (!shaped) {
            throw new IllegalArgumentException("caption tokens must be [N, S, " + cfg.captionChannels() + "] or [N, 1, S, " + cfg.captionChannels()
                    + "] with N = " + n + "; got " + Arrays.toString(y.shape()));
        }
    }

    private Tensor unpatchify(Tensor x) {
        int p = config().patch(), c = config().outChannels(), g = config().grid();
        return x.reshape(x.size(0), g, g, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(x.size(0), c, (long) g * p, (long) g * p);
    }

    /** LayerNorm (weight only) then Linear without bias, between the mixer's and the backbone's widths (keys .0, .1). */
    static final class MapLayer extends Module {
        private final LayerNorm norm;
        private final Linear linear;

        MapLayer(VarBuilder vb, long in, long out) {
            super(vb);
            norm = registerModule("0", MicroDiTBlock.norm(in));
            linear = registerModule("1", Linear.of(in, out).withBias(false).withWeightInit(Init.xavierUniform()));
        }

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                return s.keep(linear.forward(norm.forward(x)));
            }
        }
    }

    /** Norm (weight only), modulation by Linear(GELU-tanh(c)), Linear to p*p*C; the last two zero-initialised. */
    static final class FinalLayer extends Module {
        private final LayerNorm norm;
        private final Linear linear, adaLN;

        FinalLayer(VarBuilder vb, Config cfg) {
            super(vb);
            long d = cfg.dim();
            linear = registerModule("linear", Linear.of(d, (long) cfg.patch() * cfg.patch() * cfg.outChannels()).zero());
            adaLN = registerModule("adaLN_modulation.1", Linear.of(d, 2 * d).zero());
            norm = registerModule("norm_final", MicroDiTBlock.norm(d));
        }

        Tensor forward(Tensor x, Tensor c) {
            try (TensorScope s = TensorScope.open()) {
                AdaLnZero.ShiftScale m = AdaLnZero.ShiftScale.of(adaLN.forward(c.gelu(true)));
                return s.keep(linear.forward(AdaLnZero.modulateTokens(norm.forward(x), m.shift(), m.scale())));
            }
        }
    }
}
