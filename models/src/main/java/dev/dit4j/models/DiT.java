package dev.dit4j.models;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Sequential;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Embedding;
import dev.dit4j.nn.layers.Init;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import dev.dit4j.nn.layers.Mlp;
import dev.dit4j.nn.layers.SelfAttention;
import java.util.List;

/**
 * DiT: "Scalable Diffusion Models with Transformers", Peebles and Xie, arXiv 2212.09748.
 * Patchified latents with fixed 2-d sin-cos positions, adaLN-Zero blocks conditioned on
 * timestep + class, learned sigma. Parameter names follow facebookresearch/DiT so the released
 * checkpoints load unchanged.
 */
public final class DiT extends Module implements ClassConditionalModel {
    /** A DiT configuration; the presets are the paper's 12 (latent 4x32x32, 1000 classes). */
    public record Config(String name, int depth, int hidden, int heads, int patch, double mlpRatio, int inChannels,
                         int inputSize, int numClasses, boolean learnSigma, double classDropout) {
        public Config {
            if (hidden % heads != 0) throw new IllegalArgumentException("hidden " + hidden + " not divisible by heads " + heads);
            if (inputSize % patch != 0) throw new IllegalArgumentException("input size " + inputSize + " not divisible by patch " + patch);
            if (hidden % 4 != 0) throw new IllegalArgumentException("hidden must be divisible by 4 for the position table");
        }

        public int outChannels() {
            return learnSigma ? 2 * inChannels : inChannels;
        }

        public int tokens() {
            return (inputSize / patch) * (inputSize / patch);
        }

        public Config withInputSize(int size) {
            return new Config(name, depth, hidden, heads, patch, mlpRatio, inChannels, size, numClasses, learnSigma, classDropout);
        }

        public Config withInChannels(int channels) {
            return new Config(name, depth, hidden, heads, patch, mlpRatio, channels, inputSize, numClasses, learnSigma, classDropout);
        }

        public Config withNumClasses(int classes) {
            return new Config(name, depth, hidden, heads, patch, mlpRatio, inChannels, inputSize, classes, learnSigma, classDropout);
        }

        public Config withDepth(int blocks) {
            return new Config(name, blocks, hidden, heads, patch, mlpRatio, inChannels, inputSize, numClasses, learnSigma, classDropout);
        }

        public Config withClassDropout(double p) {
            return new Config(name, depth, hidden, heads, patch, mlpRatio, inChannels, inputSize, numClasses, learnSigma, p);
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
    public static final List<Config> PRESETS = List.of(S_2, S_4, S_8, B_2, B_4, B_8, L_2, L_4, L_8, XL_2, XL_4, XL_8);

    /** A preset by name, e.g. "DiT-XL/2" or "XL_2". */
    public static Config preset(String name) {
        String n = name.replace("DiT-", "").replace('/', '_');
        for (Config c : PRESETS) if (c.name().replace("DiT-", "").replace('/', '_').equalsIgnoreCase(n)) return c;
        throw new IllegalArgumentException("unknown DiT preset '" + name + "'; known: "
                + PRESETS.stream().map(Config::name).toList());
    }

    private final Config config;
    private final PatchEmbed xEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final LabelEmbedder yEmbedder;
    private final Tensor posEmbed;
    private final List<Block> blocks;
    private final FinalLayer finalLayer;

    public DiT(Config config, DType dtype, Device device, Generator gen) {
        this.config = config;
        int d = config.hidden();
        this.xEmbedder = registerModule("x_embedder", new PatchEmbed(config, dtype, device, gen));
        this.tEmbedder = registerModule("t_embedder", new TimestepEmbedder(d, dtype, device, gen));
        this.yEmbedder = registerModule("y_embedder", new LabelEmbedder(config.numClasses(), d, config.classDropout(), dtype, device, gen));
        try (Tensor table = Embeddings.sincos2d(d, config.inputSize() / config.patch(), 1);
             Tensor cast = table.to(device, dtype);
             Tensor batched = cast.unsqueeze(0)) {
            this.posEmbed = registerParameter("pos_embed", batched.contiguous(), false);
        }
        ModuleList<Block> list = registerModule("blocks", new ModuleList<>());
        for (int i = 0; i < config.depth(); i++) list.add(new Block(config, dtype, device, gen));
        this.blocks = list.items();
        this.finalLayer = registerModule("final_layer", new FinalLayer(config, dtype, device, gen));
    }

    public static DiT create(Config config, Device device, long seed) {
        try (Generator gen = Generator.create(seed, device)) {
            return new DiT(config, DType.FLOAT32, device, gen);
        }
    }

    public Config config() {
        return config;
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public boolean learnsSigma() {
        return config.learnSigma();
    }

    @Override
    public String describe() {
        return config.toString();
    }

    /**
     * x [N, C, H, W] latents, t [N] timesteps (0..999, may be fractional), y [N] int64 labels
     * (numClasses = the null label) -> [N, outC, H, W]. In training mode labels are dropped
     * to the null label with probability classDropout.
     */
    @Override
    public Tensor forward(Tensor x, Tensor t, Tensor y) {
        try (TensorScope s = TensorScope.open()) {
            Tensor tokens = xEmbedder.forward(x).add(posEmbed);
            Tensor c = tEmbedder.forward(t).add(yEmbedder.forward(y, isTraining()));
            for (Block b : blocks) tokens = b.forward(tokens, c);
            Tensor out = unpatchify(finalLayer.forward(tokens, c), x.size(2), x.size(3));
            return s.keep(out);
        }
    }

    /**
     * Classifier-free guidance exactly as the reference's forward_with_cfg: the batch is
     * [conditional half; unconditional half] on the same noise; guidance
     * eps_u + scale (eps_c - eps_u) is applied to the first {@code guidedChannels} output
     * channels (3 in the reference), the rest of each half is left as the model gave it.
     */
    public Tensor forwardWithCfg(Tensor x, Tensor t, Tensor y, double scale, int guidedChannels) {
        return Guidance.ditForm(this, x, t, y, scale, guidedChannels);
    }

    @Override
    public Tensor forwardWithCfg(Tensor x, Tensor t, Tensor y, double scale) {
        return forwardWithCfg(x, t, y, scale, 3);
    }

    private Tensor unpatchify(Tensor x, long height, long width) {
        int p = config.patch();
        int c = config.outChannels();
        long h = height / p, w = width / p;
        return x.reshape(x.size(0), h, w, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(x.size(0), c, h * p, w * p);
    }

    /** Conv patch embedding: [N, C, H, W] -> [N, T, D] (key x_embedder.proj). */
    static final class PatchEmbed extends Module {
        private final Conv2d proj;

        PatchEmbed(Config cfg, DType dtype, Device device, Generator gen) {
            proj = registerModule("proj", new Conv2d(cfg.inChannels(), cfg.hidden(), cfg.patch(), cfg.patch(), 0, 1, true,
                    dtype, device, gen)).xavierFlat(gen);
        }

        Tensor forward(Tensor x) {
            try (Tensor y = proj.forward(x)) {
                return y.flatten(2, 3).transpose(1, 2);
            }
        }
    }

    /** Sinusoidal features of t (256) -> Linear -> SiLU -> Linear (keys t_embedder.mlp.0 / .2). */
    static final class TimestepEmbedder extends Module {
        static final int FREQUENCY_DIM = 256;
        private final Linear fc1;
        private final Linear fc2;

        TimestepEmbedder(int hidden, DType dtype, Device device, Generator gen) {
            Sequential mlp = registerModule("mlp", new Sequential());
            fc1 = mlp.add(0, new Linear(FREQUENCY_DIM, hidden, true, dtype, device, gen));
            fc2 = mlp.add(2, new Linear(hidden, hidden, true, dtype, device, gen));
            Init.normal(fc1.weight(), 0.02, gen);
            Init.normal(fc2.weight(), 0.02, gen);
            Init.zeros(fc1.bias());
            Init.zeros(fc2.bias());
        }

        Tensor forward(Tensor t) {
            try (TensorScope s = TensorScope.open()) {
                Tensor f = Embeddings.timestep(t, FREQUENCY_DIM, 10000).to(fc1.weight().dtype());
                return s.keep(fc2.forward(fc1.forward(f).silu()));
            }
        }
    }

    /** Class table with one extra row, the null label used for guidance (key embedding_table). */
    static final class LabelEmbedder extends Module {
        private final Embedding table;
        private final int numClasses;
        private final double dropout;

        LabelEmbedder(int numClasses, int hidden, double dropout, DType dtype, Device device, Generator gen) {
            this.numClasses = numClasses;
            this.dropout = dropout;
            table = registerModule("embedding_table", new Embedding(numClasses + (dropout > 0 ? 1 : 0), hidden, dtype, device, gen));
            Init.normal(table.weight(), 0.02, gen);
        }

        Tensor forward(Tensor labels, boolean train) {
            if (!train || dropout <= 0) return table.forward(labels);
            try (TensorScope s = TensorScope.open()) {
                Tensor drop = Tensor.rand(labels.shape(), DType.FLOAT32, labels.device(), null).lt(dropout);
                Tensor nulls = Tensor.full(numClasses, labels.shape(), labels.dtype(), labels.device());
                return s.keep(table.forward(Tensor.where(drop, nulls, labels)));
            }
        }
    }

    /** adaLN-Zero transformer block (keys attn.*, mlp.*, adaLN_modulation.1.*). */
    static final class Block extends Module {
        private final LayerNorm norm1;
        private final LayerNorm norm2;
        private final SelfAttention attn;
        private final Mlp mlp;
        private final Linear adaLN;

        Block(Config cfg, DType dtype, Device device, Generator gen) {
            int d = cfg.hidden();
            norm1 = LayerNorm.plain(d, 1e-6, dtype, device);
            norm2 = LayerNorm.plain(d, 1e-6, dtype, device);
            attn = registerModule("attn", new SelfAttention(d, cfg.heads(), true, dtype, device, gen));
            mlp = registerModule("mlp", new Mlp(d, (long) (d * cfg.mlpRatio()), true, dtype, device, gen));
            adaLN = registerModule("adaLN_modulation", new Sequential()).add(1, new Linear(d, 6L * d, true, dtype, device, gen));
            attn.qkv().xavier(gen);
            attn.proj().xavier(gen);
            mlp.fc1().xavier(gen);
            mlp.fc2().xavier(gen);
            adaLN.zero();
        }

        Tensor forward(Tensor x, Tensor c) {
            try (TensorScope s = TensorScope.open()) {
                List<Tensor> m = adaLN.forward(c.silu()).chunk(6, 1);
                Tensor h = attn.forward(modulate(norm1.forward(x), m.get(0), m.get(1)));
                Tensor y = x.add(m.get(2).unsqueeze(1).mul(h));
                Tensor g = mlp.forward(modulate(norm2.forward(y), m.get(3), m.get(4)));
                return s.keep(y.add(m.get(5).unsqueeze(1).mul(g)));
            }
        }
    }

    /** Final norm, adaLN shift/scale and the linear head to p*p*outC per token. */
    static final class FinalLayer extends Module {
        private final LayerNorm norm;
        private final Linear linear;
        private final Linear adaLN;

        FinalLayer(Config cfg, DType dtype, Device device, Generator gen) {
            int d = cfg.hidden();
            norm = LayerNorm.plain(d, 1e-6, dtype, device);
            linear = registerModule("linear", new Linear(d, (long) cfg.patch() * cfg.patch() * cfg.outChannels(), true, dtype, device, gen)).zero();
            adaLN = registerModule("adaLN_modulation", new Sequential()).add(1, new Linear(d, 2L * d, true, dtype, device, gen)).zero();
        }

        Tensor forward(Tensor x, Tensor c) {
            try (TensorScope s = TensorScope.open()) {
                List<Tensor> m = adaLN.forward(c.silu()).chunk(2, 1);
                return s.keep(linear.forward(modulate(norm.forward(x), m.get(0), m.get(1))));
            }
        }
    }

    /** x * (1 + scale) + shift, with per-sample scale and shift broadcast over tokens. */
    static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        try (Tensor sc = scale.unsqueeze(1).add(1); Tensor sh = shift.unsqueeze(1); Tensor xs = x.mul(sc)) {
            return xs.add(sh);
        }
    }
}
