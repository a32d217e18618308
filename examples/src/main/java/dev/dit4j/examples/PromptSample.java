package dev.dit4j.examples;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.Presets;
import dev.dit4j.models.UViT;
import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.EdmSampler;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.text.CaptionConditioning;
import dev.dit4j.models.text.CaptionFile;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTextWeights;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ParameterException;

/**
 * {@code sample --prompt}: a text-to-image model (MicroDiT with EDM Heun, U-ViT's text variant with
 * DPM-Solver++, as their authors sample) guided by the caption embeddings of a CLIP text encoder,
 * written as a grid captioned with the prompts. A dit4j checkpoint rebuilds its own configuration
 * from its 'config' metadata (and MicroDiT its EDM sigma_data from 'edm_sigma_data').
 */
final class PromptSample {
    /** MicroDiT's EDM sigma_data unless the checkpoint says otherwise. */
    static final String SIGMA_DATA = "edm_sigma_data";

    private final Sample s;

    PromptSample(Sample sample) {
        this.s = sample;
    }

    /** The prompts of --prompt and --prompts, in order. */
    List<String> prompts() {
        List<String> all = new ArrayList<>(s.prompt == null ? List.of() : s.prompt);
        if (s.promptsFile != null) all.addAll(CaptionFile.read(s.promptsFile));
        if (all.isEmpty()) throw new ParameterException(s.spec.commandLine(), "--prompts " + s.promptsFile + " holds no prompt");
        return all;
    }

    int run() {
        List<String> prompts = prompts();
        Device dev = s.deviceOption.device();
        Map<String, String> meta = metadata();
        ModelConfig<? extends DiffusionModel<?>> config = config(meta);
        if (s.textEncoder == null) throw new ParameterException(s.spec.commandLine(), "--prompt needs --text-encoder: the CLIP text encoder the model was trained with");
        int n = s.count != null ? s.count : prompts.size();
        List<String> captions = new ArrayList<>();
        for (int i = 0; i < n; i++) captions.add(prompts.get(i % prompts.size()));
        Tensor images;
        try (TensorScope scope = TensorScope.open(); var g = Autograd.noGrad(); DiffusionModel<?> net = config.load(s.weights, dev)) {
            net.eval();
            long[] tokenShape = CaptionConditioning.tokenShape(net);
            ClipTextConfig textConfig = ClipTextWeights.configFor(net instanceof MicroDiT ? ClipTextConfig.OPENCLIP_VIT_H_14 : ClipTextConfig.CLIP_VIT_L_14, s.textEncoder);
            textConfig.requireWidth((int) tokenShape[1], net.config().name());
            int context = tokenShape[0] > 0 ? (int) tokenShape[0] : Math.min(ClipTokenizer.CONTEXT_LENGTH, textConfig.contextLength());
            if (context > textConfig.contextLength()) {
                throw new IllegalArgumentException(net.config().name() + " takes " + context + " text tokens, but text encoder " + s.textEncoder
                        + " has positions for " + textConfig.contextLength());
            }
            ClipTokenizer tokenizer = ClipTokenizer.open(s.vocab != null ? s.vocab : OpenClipVocabularyFile.path()).withContextLength(context);
            Tensor tokens, empty;
            try (ClipTextEncoder encoder = textConfig.load(s.textEncoder, DType.FLOAT32, dev)) {
                encoder.eval();
                tokens = encoder.encode(tokenizer, captions);
                empty = encoder.encode(tokenizer, List.of(""));
            }
            boolean micro = net instanceof MicroDiT;
            double w = s.cfg != null ? s.cfg : micro ? EdmSampler.DEFAULT_GUIDANCE : 2.0;
            int steps = s.steps != null ? s.steps : micro ? EdmSampler.DEFAULT_STEPS : 50;
            int channels = micro ? ((MicroDiT) net).config().inChannels() : ((UViT) net).config().inChannels();
            int side = micro ? ((MicroDiT) net).config().inputSize() : ((UViT) net).config().imgSize();
            if (channels != 3 && s.vae == null) throw new ParameterException(s.spec.commandLine(), net.config().name() + " samples latents: pass --vae to decode them");
            List<Tensor> parts = new ArrayList<>();
            try (Generator gen = Generator.create(s.seedOption.seed(), dev); Sampler sampler = micro
                    ? new EdmSampler(new Edm(Double.parseDouble(meta.getOrDefault(SIGMA_DATA, "0.9")), 0, 1), EdmSampler.Options.microDiT(steps))
                    : channels == 3 ? DpmSolverPP.forUViTContinuous(steps) : DpmSolverPP.forUViT(steps);
                 AutoencoderKL decoder = s.vae == null || channels == 3 ? null : AutoencoderKL.Config.inferFrom(s.vae).load(s.vae, DType.FLOAT32, dev)) {
                System.out.printf("model: %s from %s; %s, %d steps, guidance %.2f; %d prompts%n", net.config().name(), s.weights,
                        sampler.getClass().getSimpleName(), steps, w, n);
                for (int from = 0; from < n; from += s.batchOption.batch()) {
                    try (TensorScope b = TensorScope.open()) {
                        int len = Math.min(s.batchOption.batch(), n - from);
                        Conditioning c = CaptionConditioning.of(net, tokens.narrow(0, from, len), empty);
                        Tensor noise = Tensor.randn(new long[] {len, channels, side, side}, DType.FLOAT32, dev, gen);
                        Tensor x = sampler.sample(net.guided(c, w), noise, gen);
                        if (decoder != null) x = decoder.decode(x.div(decoder.scalingFactor()));
                        parts.add(b.keep(x.clamp(-1, 1).to(Device.CPU, DType.FLOAT32)));
                    }
                }
            }
            images = scope.keep(Tensor.cat(parts, 0));
        }
        Path grid = s.outOption.dir().resolve("prompts.png");
        try (images) {
            CaptionedGrid.write(images, captions, Math.min(8, n), grid);
        }
        System.out.println("wrote " + grid);
        return 0;
    }

    private Map<String, String> metadata() {
        if (!s.weights.getFileName().toString().endsWith(".safetensors")) return Map.of();
        try (var source = Safetensors.index(s.weights)) {
            return source.metadata();
        }
    }

    /**
     * The --model preset at the latent side and channels of the weights (the authors' released files are
     * 512 px: a 64 x 64 latent, position table at pos_interp_scale 2), so they load unchanged.
     */
    private MicroDiT.Config sizedByFile(MicroDiT.Config preset) {
        if (preset == null) return null;
        CheckpointProbe probe = CheckpointProbe.of(s.weights);
        if (probe.family() != Presets.Family.MICRODIT || probe.side() <= 0) return preset; // the strict load names what differs
        int side = Math.toIntExact(probe.side());
        return preset.withInputSize(side).withInChannels(Math.toIntExact(probe.channels()))
                .withPosInterpScale(preset.posInterpScale() * side / preset.inputSize());
    }

    /** The checkpoint's own configuration where it records one, else the --model preset; a model without text conditioning is refused by name. */
    private ModelConfig<? extends DiffusionModel<?>> config(Map<String, String> meta) {
        String model = s.presetOption.name();
        Presets.Family family = Presets.Family.of(model);
        String recorded = meta.get("config");
        ModelConfig<? extends DiffusionModel<?>> config = switch (family) {
            case MICRODIT -> recorded != null ? ConfigText.parse(MicroDiT.Config.class, recorded, s.weights.toString()) : sizedByFile(MicroDiT.PRESETS.get(model));
            case UVIT -> recorded != null ? ConfigText.parse(UViT.Config.class, recorded, s.weights.toString()) : UViT.PRESETS.get(model);
            default -> null;
        };
        if (config == null || config instanceof UViT.Config u && !u.textConditional()) {
            throw new ParameterException(s.spec.commandLine(), model + " has no text conditioning: --prompt and --prompts need a MicroDiT or a U-ViT text model"
                    + " (e.g. MicroDiT_XL_2, mscoco_uvit_small); use --labels for a class-conditional model");
        }
        return config;
    }
}
