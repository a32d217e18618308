package dev.dit4j.models.vae;

import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.PresetRegistry;
import dev.dit4j.nn.Autocast;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.io.WeightSource;
import dev.dit4j.nn.layers.Conv2d;
import dev.dit4j.nn.layers.GroupNorm;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The KL-regularised autoencoder of latent diffusion (Rombach et al., arXiv 2112.10752) that
 * Stable Diffusion, DiT, U-ViT and U-DiT work in: a convolutional encoder to a diagonal Gaussian
 * over latents downsampled {@code 2^(levels-1)} times (8 for every preset), and a decoder back.
 * Parameter names are the original (LDM) ones, {@code encoder.down.0.block.0.norm1.weight}; files
 * in diffusers' layout are renamed as they are read ({@link #load(Path, Device)}).
 *
 * <p>{@link #encode} and {@link #decode} work on unscaled latents, as diffusers' do; diffusion
 * models see latents times {@link #scalingFactor()}.
 */
public final class AutoencoderKL extends Module {
    /**
     * Architecture and latent scale. {@code channelMult} gives each level's width as a multiple of
     * {@code channels}; {@code attentionLevels} the levels with attention after every residual
     * block (none in the released autoencoders; the mid-block attention is always there);
     * {@code normGroups} every GroupNorm's groups (32 in every released autoencoder; diffusers'
     * {@code norm_num_groups}). A narrow autoencoder wants fewer: at 32 channels, 32 groups
     * normalise each channel alone, which strips every image's mean colour from the features.
     */
    @RecordBuilder
    public record Config(String name, int inChannels, int channels, List<Integer> channelMult, int numResBlocks,
                         int zChannels, int embedDim, List<Integer> attentionLevels, int normGroups, double scalingFactor)
            implements ModelConfig<AutoencoderKL>, AutoencoderKLConfigBuilder.With {
        public Config {
            channelMult = List.copyOf(channelMult);
            attentionLevels = List.copyOf(attentionLevels);
            if (channelMult.isEmpty()) throw new IllegalArgumentException("channelMult needs at least one level");
            if (inChannels <= 0 || numResBlocks <= 0 || zChannels <= 0 || embedDim <= 0) {
                throw new IllegalArgumentException("in channels, res blocks, z channels and embed dim must be positive: " + name);
            }
            if (normGroups <= 0) throw new IllegalArgumentException("GroupNorm's groups must be positive, got " + normGroups + ": " + name);
            for (int m : channelMult) {
                if (m <= 0 || channels % normGroups != 0 || channels * m % normGroups != 0) {
                    throw new IllegalArgumentException("the stem and every level's width must be positive multiples of " + normGroups
                            + " (GroupNorm's groups); " + channels + " x " + channelMult + " is not");
                }
            }
            for (int level : attentionLevels) {
                if (level < 0 || level >= channelMult.size()) throw new IllegalArgumentException("attention level " + level + " out of range");
            }
            if (!(scalingFactor > 0)) throw new IllegalArgumentException("scaling factor must be positive, got " + scalingFactor);
        }

        /** Width of level {@code i}; level -1 is the stem ({@code channels}). */
        public int width(int level) {
            return level < 0 ? channels : channels * channelMult.get(level);
        }

        /** Image pixels per latent pixel along each side. */
        public int downsampling() {
            return 1 << (channelMult.size() - 1);
        }

        /** The same architecture (everything but name and scale). */
        public boolean sameArchitecture(Config other) {
            return inChannels == other.inChannels && channels == other.channels && channelMult.equals(other.channelMult)
                    && numResBlocks == other.numResBlocks && zChannels == other.zChannels && embedDim == other.embedDim
                    && attentionLevels.equals(other.attentionLevels) && normGroups == other.normGroups;
        }


        @Override
        public AutoencoderKL build(VarBuilder vb) {
            return new AutoencoderKL(vb, this);
        }

        /**
         * Built from {@code file} in either layout (detected; a full Stable Diffusion checkpoint's
         * {@code first_stage_model.} section is used), which must hold this architecture: missing,
         * unexpected and mis-shaped keys are reported together.
         */
        @Override
        public AutoencoderKL load(Path file, DType dtype, Device device) {
            try (WeightSource source = VaeWeights.open(file)) {
                return VaeWeights.build(this, source, dtype, device);
            }
        }

        /**
         * The architecture that {@code file}'s shapes describe, with SD's scale and 32 groups unless
         * a diffusers config.json beside it gives others ({@code scaling_factor}, {@code norm_num_groups}).
         */
        public static Config inferFrom(Path file) {
            try (WeightSource source = VaeWeights.open(file)) {
                return VaeWeights.infer(source, file);
            }
        }
    }

    private static Config f8(String name, int z, double scale) {
        return new Config(name, 3, 128, List.of(1, 2, 4, 4), 2, z, z, List.of(), 32, scale);
    }

    /** Stable Diffusion 1.x's KL-f8 (sd-vae-ft-ema/-mse, U-ViT's autoencoder_kl.pth): DiT, U-DiT, U-ViT ImageNet. */
    public static final Config SD = f8("sd", 4, 0.18215);
    /** The same autoencoder at U-ViT's MS-COCO latent scale. */
    public static final Config UVIT_MSCOCO = f8("uvit-mscoco", 4, 0.23010);
    /** SDXL's autoencoder (same architecture, retrained; MicroDiT). */
    public static final Config SDXL = f8("sdxl", 4, 0.13025);
    /**
     * The 16-channel f8 autoencoder MicroDiT also supports (Ostris vae-kl-f8-d16). Its scale is not
     * stated with MicroDiT; 1.0 here unless the weights' diffusers config.json gives one
     * ({@link Config#inferFrom}), or set it with {@code withScalingFactor}.
     */
    public static final Config F8_D16 = f8("kl-f8-d16", 16, 1.0);
    /** The four presets, by "sd", "sd-vae", "SDXL", "kl-f8-d16", ... */
    public static final PresetRegistry<Config> PRESETS = new PresetRegistry<>("AutoencoderKL",
            List.of(SD, UVIT_MSCOCO, SDXL, F8_D16),
            Map.of("sd-vae", SD, "uvit-mscoco-vae", UVIT_MSCOCO, "sdxl-vae", SDXL, "vae-kl-f8-d16", F8_D16));

    /** Builds the autoencoder that {@code file}'s shapes describe (either layout), at SD's scale unless its config.json says otherwise. */
    public static AutoencoderKL load(Path file, Device device) {
        return load(file, DType.FLOAT32, device);
    }

    public static AutoencoderKL load(Path file, DType dtype, Device device) {
        try (WeightSource source = VaeWeights.open(file)) {
            return VaeWeights.build(VaeWeights.infer(source, file), source, dtype, device);
        }
    }

    static GroupNorm.Options norm(int groups, int channels) {
        return GroupNorm.of(groups, channels).withEps(1e-6);
    }

    private final Config config;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Conv2d quantConv, postQuantConv;
    private AutoencoderKL float32Copy;

    public AutoencoderKL(VarBuilder vb, Config config) {
        super(vb);
        this.config = config;
        encoder = registerModule("encoder", p -> new Encoder(p, config));
        decoder = registerModule("decoder", p -> new Decoder(p, config));
        quantConv = registerModule("quant_conv", Conv2d.of(2L * config.zChannels(), 2L * config.embedDim(), 1));
        postQuantConv = registerModule("post_quant_conv", Conv2d.of(config.embedDim(), config.zChannels(), 1));
    }

    public Config config() {
        return config;
    }

    public double scalingFactor() {
        return config.scalingFactor();
    }

    /** Latent channels (what a diffusion model in this latent space takes). */
    public int latentChannels() {
        return config.embedDim();
    }

    /** Images [N, 3, H, W] in [-1, 1], H and W divisible by the downsampling -> the posterior over unscaled latents. */
    public DiagonalGaussian encode(Tensor x) {
        return encode(x, Chunking.NONE);
    }

    /** As {@link #encode(Tensor)}, in batch slices and overlapping tiles as {@code chunking} says. */
    public DiagonalGaussian encode(Tensor x, Chunking chunking) {
        checkImages(x);
        return new DiagonalGaussian(Tiling.encode(this, x, chunking));
    }

    /** The quant_conv output [N, 2 embedDim, H/f, W/f]: the Gaussian's mean and log-variance, unclamped. */
    public Tensor encodeMoments(Tensor x) {
        checkImages(x);
        return moments(x);
    }

    /** Unscaled latents [N, embedDim, h, w] -> images [N, 3, f h, f w] (about [-1, 1], not clamped). */
    public Tensor decode(Tensor z) {
        return decode(z, Chunking.NONE);
    }

    /**
     * As {@link #decode(Tensor)}, in batch slices and overlapping tiles as {@code chunking} says.
     * In float16 (half weights, or an autocast region of float16) the SD decoder can overflow;
     * a result that is not finite is recomputed in float32 (from a float32 copy of the weights,
     * made once and kept), as diffusers' force_upcast does.
     */
    public Tensor decode(Tensor z, Chunking chunking) {
        checkLatents(z);
        Tensor out = Tiling.decode(this, z, chunking);
        if (!halfPrecision(z.device()) || allFinite(out)) return out;
        out.close();
        try (TensorScope s = TensorScope.open(); Autocast.Region fp32 = Autocast.disable(z.device())) {
            return s.keep(float32().decode(z.to(DType.FLOAT32), chunking));
        }
    }

    /** encoder + quant_conv, no checks: one tile or slice. */
    Tensor moments(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(Chain.step(encoder.forward(x), quantConv::forward, x));
        }
    }

    /** post_quant_conv + decoder, no checks: one tile or slice. */
    Tensor pixels(Tensor z) {
        try (TensorScope s = TensorScope.open()) {
            return s.keep(Chain.step(postQuantConv.forward(z), decoder::forward, z));
        }
    }

    private void checkImages(Tensor x) {
        int f = config.downsampling();
        if (x.dim() != 4 || x.size(1) != config.inChannels()) {
            throw new IllegalArgumentException(config.name() + " encodes images [N, " + config.inChannels() + ", H, W], got "
                    + Arrays.toString(x.shape()));
        }
        if (x.size(2) % f != 0 || x.size(3) % f != 0) {
            throw new IllegalArgumentException("image size " + x.size(2) + "x" + x.size(3) + " is not divisible by " + f
                    + " (the autoencoder's downsampling)");
        }
    }

    private void checkLatents(Tensor z) {
        if (z.dim() != 4 || z.size(1) != config.embedDim()) {
            throw new IllegalArgumentException(config.name() + " decodes latents [N, " + config.embedDim() + ", h, w], got "
                    + Arrays.toString(z.shape()));
        }
    }

    private boolean halfPrecision(Device device) {
        DType weights = quantConv.weight().dtype();
        return weights == DType.FLOAT16 || (weights == DType.FLOAT32 && Autocast.isEnabled(device) && Autocast.dtype(device) == DType.FLOAT16);
    }

    private static boolean allFinite(Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            return t.isfinite().logicalNot().sum().item() == 0;
        }
    }

    /** This autoencoder with float32 weights (itself when its weights are float32). */
    private AutoencoderKL float32() {
        if (quantConv.weight().dtype() == DType.FLOAT32) return this;
        if (float32Copy == null) {
            Map<String, Tensor> copies = new LinkedHashMap<>();
            stateDict().forEach((k, v) -> copies.put(k, TensorScope.release(v.to(DType.FLOAT32))));
            try (WeightSource source = WeightSource.owning(copies, "float32 copy of " + config.name())) {
                float32Copy = VaeWeights.build(config, source, DType.FLOAT32, quantConv.weight().device());
            }
        }
        return float32Copy;
    }

    @Override
    public void close() {
        if (float32Copy != null) float32Copy.close();
        super.close();
    }
}
