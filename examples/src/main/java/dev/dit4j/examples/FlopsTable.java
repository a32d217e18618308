package dev.dit4j.examples;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.UDiT;
import dev.dit4j.models.UViT;
import dev.dit4j.models.flops.FlopSubject;
import dev.dit4j.models.flops.ModelFlops;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The parameter / GFLOPs table of the papers, produced by {@link ModelFlops}. Another model family
 * joins with one line in {@link #subjects()} mapping its presets to {@link FlopSubject}s.
 */
final class FlopsTable {
    private FlopsTable() {}

    /**
     * DiT's 12 configurations at 256px (latent 4x32x32), in the paper's order, with the reference
     * GMACs of the DiT paper's table (a MAC count of the authors' PyTorch code; the DiT README
     * gives 119 for XL/2).
     */
    static final Map<String, String> DIT_REFERENCE = orderedMap(
            "DiT-S/8", "0.36", "DiT-S/4", "1.41", "DiT-S/2", "6.06",
            "DiT-B/8", "1.42", "DiT-B/4", "5.57", "DiT-B/2", "23.01",
            "DiT-L/8", "5.01", "DiT-L/4", "19.70", "DiT-L/2", "80.70",
            "DiT-XL/8", "7.39", "DiT-XL/4", "29.04", "DiT-XL/2", "118.6");

    /** A DiT preset as a table row. */
    public static FlopSubject dit(DiT.Config config) {
        return FlopSubject.classConditional(config.name(), device -> config.create(device, 0), config.inChannels(),
                config.inputSize(), config.numClasses(), DIT_REFERENCE.get(config.name()));
    }

    /**
     * U-ViT's configurations with the MACs counted on the authors' code (the paper's own GFLOPs
     * could not be re-read; S/2-Deep has no count).
     */
    static final Map<String, String> UVIT_REFERENCE = orderedMap(
            "cifar10_uvit_small", "12.2", "celeba64_uvit_small", "12.2", "imagenet64_uvit_mid", "35.2",
            "imagenet64_uvit_large", "76.5", "imagenet256_uvit_large", "76.5", "imagenet256_uvit_huge", "133.2",
            "imagenet512_uvit_large", "76.5", "imagenet512_uvit_huge", "133.2", "mscoco_uvit_small", "16.2");

    /** A U-ViT preset as a table row: unconditional, class or text input as the preset takes. */
    public static FlopSubject uvit(UViT.Config c) {
        return new FlopSubject("U-ViT " + c.name(), device -> c.create(device, 0), (model, device) -> {
            Tensor x = Tensor.randn(new long[] {1, c.inChannels(), c.imgSize(), c.imgSize()}, DType.FLOAT32, device, null);
            Tensor t = Tensor.full(500, new long[] {1}, DType.FLOAT32, device);
            UViT net = (UViT) model;
            if (c.textConditional()) net.forwardText(x, t, Tensor.randn(new long[] {1, c.contextTokens(), c.contextDim()}, DType.FLOAT32, device, null));
            else net.forward(x, t, c.classConditional() ? Tensor.zeros(new long[] {1}, DType.INT64, device) : null);
        }, UVIT_REFERENCE.get(c.name()), false);
    }

    /**
     * U-DiT's GFLOPs from the authors' Hugging Face model card. They are for the inference form
     * (re-parameterised FFN), which is what is counted here (the training form costs about 7.13 /
     * 26.51 / 102.03 GMACs), and they include the layer norms the way fvcore counts them (4 FLOPs
     * per element): without them the counts are 6.02 / 22.18 / 84.91.
     */
    static final Map<String, String> UDIT_REFERENCE = orderedMap("U-DiT-S", "6.04", "U-DiT-B", "22.22", "U-DiT-L", "85.00");

    /** A U-DiT preset at 256px (latent 4x32x32) in its re-parameterised inference form. */
    public static FlopSubject udit(UDiT.Config c) {
        return FlopSubject.classConditional(c.name(), device -> c.create(device, 0).reparameterize(), c.inChannels(), 32,
                c.numClasses(), UDIT_REFERENCE.get(c.name())).withNorms();
    }

    /**
     * A MicroDiT preset at 256 px (latent 32) or 512 px (latent 64, pos_interp_scale 2), fed 77
     * caption tokens, unmasked or with 75 % of the tokens dropped after the patch mixer. No
     * reference column: the authors' code counts its one-hot MoE dispatch and combine einsums
     * (2 N E k T d MACs per MoE layer, 4 T^2 d at capacity 2), which gathers replace here; see
     * {@link #microDiTDispatchMacs}.
     */
    public static FlopSubject microDiT(MicroDiT.Config preset, int latent, double maskRatio) {
        MicroDiT.Config c = preset.withInputSize(latent).withPosInterpScale(latent / 32.0);
        String name = String.format(Locale.ROOT, "%s %dpx%s", c.name(), latent * 8, maskRatio > 0 ? " mask " + maskRatio : "");
        return new FlopSubject(name, device -> c.create(device, 0), (model, device) -> {
            Tensor x = Tensor.randn(new long[] {1, c.inChannels(), latent, latent}, DType.FLOAT32, device, null);
            Tensor t = Tensor.zeros(new long[] {1}, DType.FLOAT32, device);
            Tensor y = Tensor.randn(new long[] {1, 77, c.captionChannels()}, DType.FLOAT32, device, null);
            long kept = maskRatio > 0 ? dev.dit4j.models.microdit.TokenMask.kept(c.tokens(), maskRatio) : 0;
            Tensor keep = maskRatio > 0 ? Tensor.arange(0, kept, 1, DType.INT64, device).reshape(1, kept) : null;
            ((MicroDiT) model).forward(x, t, Conditioning.text(y), keep);
        }, null, false);
    }

    /** The MACs of the authors' one-hot dispatch and combine einsums in one forward: 2 E k T d per MoE layer. */
    public static long microDiTDispatchMacs(MicroDiT.Config c, double maskRatio) {
        long all = c.tokens(), kept = maskRatio > 0 ? dev.dit4j.models.microdit.TokenMask.kept(all, maskRatio) : all;
        long macs = 0;
        for (int i = 0; i < c.mixerDepth(); i++) if (c.mixerMoe(i)) macs += 2L * c.experts() * (long) (c.expertCapacity() * all / c.experts()) * all * c.mixerDim();
        for (int i = 0; i < c.depth(); i++) if (c.moe(i)) macs += 2L * c.experts() * (long) (c.expertCapacity() * kept / c.experts()) * kept * c.dim();
        return macs;
    }

    private static Stream<FlopSubject> microDiTRows(MicroDiT.Config c) {
        return Stream.of(microDiT(c, 32, 0), microDiT(c, 32, 0.75), microDiT(c, 64, 0), microDiT(c, 64, 0.75));
    }

    /** Every row, family by family. */
    public static List<FlopSubject> subjects() {
        return Stream.of(
                DIT_REFERENCE.keySet().stream().map(name -> dit(DiT.PRESETS.get(name))),
                UViT.PRESETS.all().stream().map(FlopsTable::uvit),
                UDiT.PRESETS.all().stream().map(FlopsTable::udit),
                Stream.of(MicroDiT.TINY_2, MicroDiT.XL_2).flatMap(FlopsTable::microDiTRows)
        ).flatMap(s -> s).toList();
    }

    /** Rows whose name contains {@code filter} (case-insensitive); all when it is null or blank. */
    public static List<FlopSubject> subjects(String filter) {
        if (filter == null || filter.isBlank()) return subjects();
        String f = filter.toLowerCase(Locale.ROOT);
        List<FlopSubject> out = subjects().stream().filter(s -> s.name().toLowerCase(Locale.ROOT).contains(f)).toList();
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no model matches '" + filter + "'; known: "
                    + subjects().stream().map(FlopSubject::name).toList());
        }
        return out;
    }

    /** Measures each subject in turn (one model in memory at a time), reporting each result as it comes. */
    public static List<ModelFlops.Result> measure(List<FlopSubject> subjects, Device device, Consumer<ModelFlops.Result> progress) {
        List<ModelFlops.Result> results = new ArrayList<>();
        for (FlopSubject s : subjects) {
            ModelFlops.Result r = ModelFlops.measure(s, device);
            results.add(r);
            if (progress != null) progress.accept(r);
        }
        return results;
    }

    /** The markdown table: params (M), GMACs (1 multiply-add = 1 FLOP) and the reference GMACs. */
    public static String markdown(List<ModelFlops.Result> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("| model | params (M) | GFLOPs (GMACs) | reference GFLOPs | match |\n");
        sb.append("|---|---:|---:|---:|:---:|\n");
        for (ModelFlops.Result r : results) {
            sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s | %s |\n", r.name(), r.mparams(), r.gmacs(),
                    r.reference() == null ? "-" : r.reference(), r.reference() == null ? "" : r.matchesReference() ? "yes" : "NO"));
        }
        sb.append("\nFLOPs counted as multiply-accumulates of one batch-1 forward (linear, conv, attention QK^T and AV);"
                + " elementwise ops not counted; U-DiT rows add layer norms at 4 FLOPs per element, as its published"
                + " figures (fvcore) do. Params include frozen tables (DiT pos_embed); U-DiT's are the training form."
                + " MicroDiT rows route MoE tokens by gathers (no arithmetic), where the authors' one-hot dispatch and combine"
                + " einsums add 4 T^2 d MACs per MoE layer; its pos_embed is a buffer, not a parameter, as in the authors' code.\n");
        return sb.toString();
    }

    private static Map<String, String> orderedMap(String... kv) {
        var m = new java.util.LinkedHashMap<String, String>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }
}
