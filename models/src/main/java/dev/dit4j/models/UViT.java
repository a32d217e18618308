package dev.dit4j.models;

import dev.dit4j.models.embed.Embeddings;
import dev.dit4j.models.uvit.UViTBlock;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Init;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.Embedding;
import dev.dit4j.nn.layers.LayerNorm;
import dev.dit4j.nn.layers.Linear;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import io.soabase.recordbuilder.core.RecordBuilder;

/**
 * U-ViT: "All are Worth Words: A ViT Backbone for Diffusion Models", Bao et al., CVPR 2023
 * (arXiv 2209.12152). Time, condition and image patches are all tokens of one ViT with learned
 * positions; in-blocks push their outputs on a stack which out-blocks pop as long skips. Parameter
 * names follow baofff/U-ViT (libs/uvit.py, libs/uvit_t2i.py) so the released checkpoints load
 * unchanged. Output: epsilon, C channels.
 */
public final class UViT extends DiffusionModel<UViT.Config> {
    /**
     * A U-ViT configuration.
     *
     * @param imgSize       input height = width the learned positions are sized for (latent or pixel)
     * @param depth         the authors' depth: depth/2 in-blocks, one mid block, depth/2 out-blocks
     * @param numClasses    real classes; 0 or -1 for an unconditional or text model
     * @param nullLabel     the label table has one more row, label {@code numClasses}, for guidance
     *                      (the authors' num_classes is then numClasses + 1)
     * @param labelDropout  probability of replacing a label by the null label in training mode
     *                      (the authors' p_uncond, which they apply in the dataset)
     * @param conv          a final 3x3 conv after unpatchify (false in the H models)
     * @param contextDim    width of the text-encoder tokens (768 for CLIP ViT-L/14); 0 without text
     * @param contextTokens number of text tokens (77); 0 without text
     */
    @RecordBuilder
    public record Config(String name, int imgSize, int patch, int inChannels, int embedDim, int depth, int heads,
                         double mlpRatio, boolean qkvBias, int numClasses, boolean nullLabel, double labelDropout,
                         boolean conv, int contextDim, int contextTokens) implements DiffusionConfig<UViT>, UViTConfigBuilder.With {
        public Config {
            if (embedDim % heads != 0) throw new IllegalArgumentException("embedDim " + embedDim + " not divisible by heads " + heads);
            if (imgSize % patch != 0) throw new IllegalArgumentException("image size " + imgSize + " not divisible by patch " + patch);
            if (depth < 0 || depth % 2 != 0) throw new IllegalArgumentException("depth must be even (depth/2 in- and out-blocks), got " + depth);
            if (numClasses > 0 && contextTokens > 0) throw new IllegalArgumentException("a U-ViT is conditioned on classes or on text, not both");
            if (contextTokens < 0 || (contextTokens > 0) != (contextDim > 0)) {
                throw new IllegalArgumentException("contextDim and contextTokens must both be positive or both 0, got " + contextDim + ", " + contextTokens);
            }
            if (nullLabel && numClasses <= 0) throw new IllegalArgumentException("a null label needs a class-conditional model");
            if (labelDropout < 0 || labelDropout >= 1) throw new IllegalArgumentException("labelDropout must lie in [0, 1), got " + labelDropout);
            if (labelDropout > 0 && !nullLabel) throw new IllegalArgumentException("label dropout needs the null label row");
        }

        @Override
        public int side() {
            return imgSize;
        }

        /** {@code blocks}: in + out blocks (plus the mid block); {@code classes} with a null label. */
        @Override
        public Config overridden(Integer blocks, Integer classes) {
            Config c = blocks == null ? this : withDepth(blocks);
            return classes == null ? c : c.withClasses(classes, true);
        }

        @Override
        public Config resized(int channels, int side) {
            return withInChannels(channels).withImgSize(side);
        }

        @Override
        public int captionWidth() {
            return contextDim;
        }

        @Override
        public int captionTokens() {
            return contextTokens;
        }

        public boolean classConditional() {
            return numClasses > 0;
        }

        public boolean textConditional() {
            return contextTokens > 0;
        }

        /** Rows of label_emb: the authors' num_classes. */
        public int labelTableSize() {
            return classConditional() ? numClasses + (nullLabel ? 1 : 0) : 0;
        }

        /** Tokens before the patches: label + time (2), time + text (1 + contextTokens), or time (1). */
        public int extras() {
            return classConditional() ? 2 : 1 + contextTokens;
        }

        /** Patch tokens of an imgSize input. */
        public int patches() {
            return (imgSize / patch) * (imgSize / patch);
        }

        /** depth + 1 transformer blocks in all. */
        public int blocks() {
            return depth + 1;
        }

        /** The parameter count of a model with this config, computed from the shapes without allocating. */
        public long parameterCount() {
            long d = embedDim, c = inChannels, p2 = (long) patch * patch, hidden = (long) (embedDim * mlpRatio);
            long block = 4 * d + 3 * d * d + (qkvBias ? 3 * d : 0) + d * d + d + d * hidden + hidden + hidden * d + d;
            long n = (extras() + (long) patches()) * d + d * c * p2 + d;
            n += (long) labelTableSize() * d;
            if (textConditional()) n += (long) contextDim * d + d;
            n += (depth + 1L) * block + (depth / 2L) * (2 * d * d + d);
            n += 2 * d + d * p2 * c + p2 * c;
            if (conv) n += c * c * 9 + c;
            return n;
        }

        public Config withWidth(int dim, int nHeads) {
            return with(b -> b.embedDim(dim).heads(nHeads));
        }

        /** Class-conditional with {@code classes} real classes and, when {@code withNull}, a null label row. */
        public Config withClasses(int classes, boolean withNull) {
            return with(b -> b.numClasses(classes).nullLabel(withNull).labelDropout(withNull ? labelDropout : 0).contextDim(0).contextTokens(0));
        }

        /** Unconditional: time token only. */
        public Config unconditional() {
            return with(b -> b.numClasses(-1).nullLabel(false).labelDropout(0).contextDim(0).contextTokens(0));
        }

        /** Text-conditional with {@code tokens} context tokens of width {@code dim} (no labels). */
        public Config withContext(int dim, int tokens) {
            return with(b -> b.numClasses(-1).nullLabel(false).labelDropout(0).contextDim(dim).contextTokens(tokens));
        }

        @Override
        public UViT build(VarBuilder vb) {
            return new UViT(vb, this);
        }
    }

    private static Config uncond(String name, int img, int patch, int dim, int depth, int heads) {
        return new Config(name, img, patch, 3, dim, depth, heads, 4, false, -1, false, 0, true, 0, 0);
    }

    private static Config classes(String name, int img, int patch, int channels, int dim, int depth, int heads,
                                  boolean withNull, double dropout, boolean conv) {
        return new Config(name, img, patch, channels, dim, depth, heads, 4, false, 1000, withNull, dropout, conv, 0, 0);
    }

    private static Config text(String name, int depth) {
        return new Config(name, 32, 2, 4, 512, depth, 8, 4, false, -1, false, 0, true, 768, 77);
    }

    /** U-ViT-S/2, CIFAR-10 pixels 3x32x32, unconditional (44.26M). */
    public static final Config CIFAR10_S_2 = uncond("cifar10_uvit_small", 32, 2, 512, 12, 8);
    /** U-ViT-S/4, CelebA pixels 3x64x64, unconditional (44.29M). */
    public static final Config CELEBA64_S_4 = uncond("celeba64_uvit_small", 64, 4, 512, 12, 8);
    /** U-ViT-M/4, ImageNet pixels 3x64x64, 1000 classes, no guidance (130.94M). */
    public static final Config IMAGENET64_M_4 = classes("imagenet64_uvit_mid", 64, 4, 3, 768, 16, 12, false, 0, true);
    /** U-ViT-L/4, ImageNet pixels 3x64x64, 1000 classes, no guidance (286.83M). */
    public static final Config IMAGENET64_L_4 = classes("imagenet64_uvit_large", 64, 4, 3, 1024, 20, 16, false, 0, true);
    /** U-ViT-L/2, ImageNet 256 latents 4x32x32, 1000 classes + null (286.76M). */
    public static final Config IMAGENET256_L_2 = classes("imagenet256_uvit_large", 32, 2, 4, 1024, 20, 16, true, 0.15, true);
    /** U-ViT-H/2, ImageNet 256 latents 4x32x32, no final conv (500.83M). */
    public static final Config IMAGENET256_H_2 = classes("imagenet256_uvit_huge", 32, 2, 4, 1152, 28, 16, true, 0.1, false);
    /** U-ViT-L/4, ImageNet 512 latents 4x64x64 (286.86M). */
    public static final Config IMAGENET512_L_4 = classes("imagenet512_uvit_large", 64, 4, 4, 1024, 20, 16, true, 0.15, true);
    /** U-ViT-H/4, ImageNet 512 latents 4x64x64, no final conv (500.94M). */
    public static final Config IMAGENET512_H_4 = classes("imagenet512_uvit_huge", 64, 4, 4, 1152, 28, 16, true, 0.1, false);
    /** U-ViT-S/2, MS-COCO latents 4x32x32, 77 CLIP tokens of 768 (44.69M). */
    public static final Config MSCOCO_S_2 = text("mscoco_uvit_small", 12);
    /** U-ViT-S/2-Deep (depth 16), MS-COCO (58.35M). */
    public static final Config MSCOCO_S_2_DEEP = text("mscoco_uvit_small_deep", 16);
    /**
     * The presets by the authors' config / checkpoint name ("imagenet256_uvit_large", optionally with
     * ".pth") or by their constant's name ("IMAGENET256_L_2", "imagenet256-l/2").
     */
    public static final PresetRegistry<Config> PRESETS = new PresetRegistry<>("U-ViT",
            List.of(CIFAR10_S_2, CELEBA64_S_4, IMAGENET64_M_4, IMAGENET64_L_4, IMAGENET256_L_2, IMAGENET256_H_2,
                    IMAGENET512_L_4, IMAGENET512_H_4, MSCOCO_S_2, MSCOCO_S_2_DEEP),
            Map.of("CIFAR10_S_2", CIFAR10_S_2, "CELEBA64_S_4", CELEBA64_S_4, "IMAGENET64_M_4", IMAGENET64_M_4,
                    "IMAGENET64_L_4", IMAGENET64_L_4, "IMAGENET256_L_2", IMAGENET256_L_2, "IMAGENET256_H_2", IMAGENET256_H_2,
                    "IMAGENET512_L_4", IMAGENET512_L_4, "IMAGENET512_H_4", IMAGENET512_H_4, "MSCOCO_S_2", MSCOCO_S_2,
                    "MSCOCO_S_2_DEEP", MSCOCO_S_2_DEEP));

    private final Tensor posEmbed;
    private final PatchEmbed patchEmbed;
    private final Embedding labelEmb;
    private final Linear contextEmbed;
    private final List<UViTBlock> inBlocks;
    private final UViTBlock midBlock;
    private final List<UViTBlock> outBlocks;
    private final LayerNorm norm;
    private final Linear decoderPred;
    private final Conv2d finalLayer;

    /** Builds the model with the authors' initialisation (trunc-normal Linears and positions; conv and label table PyTorch defaults). */
    public UViT(VarBuilder vb, Config config) {
        super(vb, config);
        int d = config().embedDim();
        int c = config().inChannels();
        posEmbed = registerParameter("pos_embed", new long[] {1, config().extras() + config().patches(), d}, Init.truncNormal(0.02));
        patchEmbed = registerModule("patch_embed", p -> new PatchEmbed(p, c, d, config().patch()));
        labelEmb = config().classConditional() ? registerModule("label_emb", Embedding.of(config().labelTableSize(), d)) : null;
        contextEmbed = config().textConditional() ? registerModule("context_embed", Linear.of(config().contextDim(), d).truncNormal(0.02)) : null;
        ModuleList<UViTBlock> ins = registerModule("in_blocks", ModuleList::new);
        for (int i = 0; i < config().depth() / 2; i++) ins.add(block(false));
        inBlocks = ins.items();
        midBlock = registerModule("mid_block", block(false));
        ModuleList<UViTBlock> outs = registerModule("out_blocks", ModuleList::new);
        for (int i = 0; i < config().depth() / 2; i++) outs.add(block(true));
        outBlocks = outs.items();
        norm = registerModule("norm", LayerNorm.of(d));
        decoderPred = registerModule("decoder_pred", Linear.of(d, (long) config().patch() * config().patch() * c).truncNormal(0.02));
        finalLayer = config().conv() ? registerModule("final_layer", Conv2d.of(c, c, 3).samePadding()) : null;
    }

    private UViTBlock.Options block(boolean skip) {
        Config c = config();
        return new UViTBlock.Options(c.embedDim(), c.heads(), c.mlpRatio(), c.qkvBias(), skip);
    }

    /** Labels for a class model, text for a text model, {@link Conditioning.None} for an unconditional one (a text mask is not used: U-ViT attends to every token). */
    @Override
    public Tensor forward(Tensor x, Tensor t, Conditioning c) {
        return switch (c) {
            case Conditioning.Labels l -> {
                if (!config().classConditional()) throw new IllegalArgumentException("U-ViT " + config().name() + " takes no class labels");
                yield forward(x, t, l.labels());
            }
            case Conditioning.Text text -> forwardText(x, t, text.tokens());
            case Conditioning.None none -> forward(x, t, (Tensor) null);
        };
    }

    /**
     * x [N, C, imgSize, imgSize], t [N] network timesteps (may be fractional) -> epsilon [N, C, H, W].
     * The third argument is the int64 labels [N] for a class-conditional model (the null label
     * {@code numClasses} allowed when the table has it; dropped to it with probability labelDropout
     * in training mode), null for an unconditional one, and the text tokens [N, contextTokens,
     * contextDim] for a text model (see {@link #forwardText}).
     */
    public Tensor forward(Tensor x, Tensor t, Tensor y) {
        if (config().textConditional()) return forwardText(x, t, y);
        checkInput(x, t);
        if (!config().classConditional()) {
            if (y != null) throw new IllegalArgumentException("unconditional U-ViT " + config().name() + " takes no labels; pass null");
            return run(x, t, null, null);
        }
        checkLabels(y, x.size(0));
        return run(x, t, y, null);
    }

    /** Text-conditional forward: context [N, contextTokens, contextDim] (CLIP last_hidden_state). */
    public Tensor forwardText(Tensor x, Tensor t, Tensor context) {
        if (!config().textConditional()) throw new IllegalArgumentException("U-ViT " + config().name() + " is not text-conditional");
        checkInput(x, t);
        checkContext(context, x.size(0));
        return run(x, t, null, context);
    }

    /** A class model is guided with its null label, which the authors' H models lack. */
    @Override
    public Guided guided(Conditioning c, double scale) {
        if (c instanceof Conditioning.Labels && !config().nullLabel())
            throw new IllegalArgumentException(config().name() + " has no null label, so it cannot be guided: use scale 1");
        return super.guided(c, scale);
    }

    /**
     * U-ViT's form, eps_c + s (eps_c - eps_u) with the authors' s = scale - 1 (their configs'
     * 0.4 is 1.4 here); text guides against the empty prompt's encoding, as they sample MS-COCO.
     */
    @Override
    protected Tensor guide(Tensor cond, Tensor uncond, double scale) {
        return cond.add(cond.sub(uncond).mul(scale - 1));
    }

    /** Tokens [label | time | patches], [time | text | patches] or [time | patches] through the U-shaped ViT. */
    private Tensor run(Tensor x, Tensor t, Tensor y, Tensor context) {
        try (TensorScope s = TensorScope.open()) {
            Tensor patches = patchEmbed.forward(x);
            List<Tensor> seq = new ArrayList<>();
            if (y != null) seq.add(labelEmb.forward(dropLabels(y)).unsqueeze(1));
            seq.add(Embeddings.timestep(t, config().embedDim(), 10000).to(patches.dtype()).unsqueeze(1));
            if (context != null) seq.add(contextEmbed.forward(context.to(patches.dtype())));
            seq.add(patches);
            Tensor h = Tensor.cat(seq, 1).add(posEmbed);
            Deque<Tensor> skips = new ArrayDeque<>();
            for (UViTBlock b : inBlocks) {
                h = b.forward(h);
                skips.push(h);
            }
            h = midBlock.forward(h);
            for (UViTBlock b : outBlocks) h = b.forward(h, skips.pop());
            Tensor tokens = decoderPred.forward(norm.forward(h)).narrow(1, config().extras(), config().patches());
            Tensor out = unpatchify(tokens, x.size(2), x.size(3));
            if (finalLayer != null) out = finalLayer.forward(out);
            return s.keep(out);
        }
    }

    /** In training mode, each label becomes the null label with probability labelDropout. */
    private Tensor dropLabels(Tensor y) {
        if (!isTraining() || config().labelDropout() <= 0) return y;
        Tensor drop = Tensor.rand(y.shape(), DType.FLOAT32, y.device(), null).lt(config().labelDropout());
        Tensor nulls = Tensor.full(config().numClasses(), y.shape(), y.dtype(), y.device());
        return Tensor.where(drop, nulls, y);
    }

    /** [N, T, p*p*C] with features laid out (p1 p2 C) -> [N, C, H, W]. */
    private Tensor unpatchify(Tensor x, long height, long width) {
        int p = config().patch();
        int c = config().inChannels();
        long h = height / p, w = width / p;
        return x.reshape(x.size(0), h, w, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(x.size(0), c, h * p, w * p);
    }

    private void checkInput(Tensor x, Tensor t) {
        long[] s = x.shape();
        int size = config().imgSize();
        if (s.length != 4 || s[1] != config().inChannels() || s[2] != size || s[3] != size) {
            throw new IllegalArgumentException("U-ViT " + config().name() + " takes [N, " + config().inChannels() + ", " + size + ", " + size
                    + "] (pos_embed covers " + config().patches() + " patches of " + config().patch() + "x" + config().patch()
                    + "); got " + Arrays.toString(s) + ". Use Config.withImgSize for another size");
        }
        if (t.dim() != 1 || t.size(0) != s[0]) {
            throw new IllegalArgumentException("timesteps must be [N] = [" + s[0] + "]; got " + Arrays.toString(t.shape()));
        }
    }

    private void checkLabels(Tensor y, long n) {
        if (y == null) throw new IllegalArgumentException("class-conditional U-ViT " + config().name() + " needs labels");
        if (y.dim() != 1 || y.size(0) != n || y.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("labels must be integer [N] = [" + n + "]; got " + y.dtype() + " " + Arrays.toString(y.shape()));
        }
        // The range is read back only from CPU labels: on a GPU it would sync the device every
        // forward, and libtorch's embedding reports an out-of-range index there itself.
        if (!y.device().equals(Device.CPU)) return;
        try (Tensor lo = y.min(); Tensor hi = y.max()) {
            long min = lo.itemLong(), max = hi.itemLong();
            if (min < 0 || max >= config().labelTableSize()) {
                throw new IllegalArgumentException("labels must lie in [0, " + config().labelTableSize() + ")"
                        + (config().nullLabel() ? " (" + config().numClasses() + " = null label)" : "") + "; got [" + min + ", " + max + "]");
            }
        }
    }

    private void checkContext(Tensor context, long n) {
        if (context == null || context.dim() != 3 || context.size(0) != n || context.size(1) != config().contextTokens()
                || context.size(2) != config().contextDim()) {
            throw new IllegalArgumentException("text context must be [N, " + config().contextTokens() + ", " + config().contextDim() + "] with N = " + n
                    + "; got " + (context == null ? "null" : Arrays.toString(context.shape())));
        }
    }

    /** Conv patch embedding with PyTorch's default init: [N, C, H, W] -> [N, L, D] (key patch_embed.proj). */
    private static final class PatchEmbed extends Module {
        private final Conv2d proj;

        PatchEmbed(VarBuilder vb, int channels, int dim, int patch) {
            super(vb);
            proj = registerModule("proj", Conv2d.patchify(channels, dim, patch));
        }

        Tensor forward(Tensor x) {
            try (TensorScope s = TensorScope.open()) {
                return s.keep(proj.forward(x).flatten(2, 3).transpose(1, 2));
            }
        }
    }
}
