package dev.dit4j.examples;

import com.google.gson.GsonBuilder;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.models.eval.ClipScore;
import dev.dit4j.models.eval.Evaluator;
import dev.dit4j.models.eval.ImageSource;
import dev.dit4j.models.eval.InceptionV3;
import dev.dit4j.models.text.CaptionFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * ADM's evaluation (FID, sFID, Inception Score, precision, recall) of a sample set against a
 * reference, and the CLIP score of text-to-image samples against their prompts.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "FID, sFID, Inception Score, precision and recall of --samples against --reference, with pytorch-fid's "
                + "Inception weights (pt_inception-2015-12-05-6726825d.pth). Sets are ADM .npz files (arr_0 uint8 [N,H,W,3]) or "
                + "image folders; the reference may be statistics (mu, sigma, mu_s, sigma_s) as ADM's reference batches carry. "
                + "With --clip-score: 100 x mean(max(cos, 0)) of each sample's CLIP image embedding with its prompt's (--prompts, one a line, in order).")
public final class Evaluate implements Callable<Integer> {
    @Option(names = "--samples", required = true, description = "ADM .npz (arr_0) or folder of images")
    Path samples;

    @Option(names = "--reference", description = "ADM .npz (images and/or mu, sigma[, mu_s, sigma_s]) or folder of images")
    Path reference;

    @Option(names = "--inception", description = "pytorch-fid's Inception weights (.pth); needed for --reference and --stats-out")
    Path inception;

    @Option(names = "--clip-score", description = "the CLIP score of --samples against --prompts, with --clip-weights")
    boolean clipScore;

    @Option(names = "--prompts", description = "the samples' prompts, one a line (UTF-8), in the samples' order")
    Path prompts;

    @Option(names = "--clip-weights", description = "a CLIP model: transformers' CLIPModel (model.safetensors, with its config.json beside it "
            + "when reduced) or open_clip's (open_clip_model.safetensors or .bin), its image tower and, unless --clip-text-weights, its text tower")
    Path clipWeights;

    @Option(names = "--clip-text-weights", description = "the CLIP text tower's weights when not in --clip-weights (with text_projection)")
    Path clipTextWeights;

    @Option(names = "--vocab", description = "the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, vocab.json + merges.txt, tokenizer.json) (default: open_clip's)")
    Path vocab;

    @Option(names = "--out", description = "write the metrics as JSON: fid, sfid, inception_score, precision, recall; clip_score, clip_score_torchmetrics")
    Path out;

    @Option(names = "--stats-out", description = "save the samples' statistics (mu, sigma, mu_s, sigma_s) as .npz, usable as a --reference")
    Path statsOut;

    @Option(names = "--batch", converter = Numbers.PositiveInt.class, description = "images per Inception or CLIP batch (default ${DEFAULT-VALUE})")
    int batch = 50;

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (reference == null && statsOut == null && !clipScore) {
            throw new ParameterException(spec.commandLine(), "give --reference to compare with, or --stats-out to save the samples' statistics"
                    + " (or --clip-score)");
        }
        for (Path o : new Path[] {out, statsOut}) {
            if (o == null) continue;
            OutputPaths.requireDistinct(spec, "an output", o, "--samples", samples);
            if (reference != null) OutputPaths.requireDistinct(spec, "an output", o, "--reference", reference);
            for (Path in : new Path[] {prompts, clipWeights, clipTextWeights}) if (in != null) OutputPaths.requireDistinct(spec, "an output", o, "an input", in);
        }
        if (clipScore) {
            if (prompts == null || clipWeights == null) throw new ParameterException(spec.commandLine(), "--clip-score needs --prompts and --clip-weights");
            for (Path in : new Path[] {prompts, clipWeights, clipTextWeights, vocab}) {
                if (in != null && !Files.exists(in)) throw new ParameterException(spec.commandLine(), in + " does not exist");
            }
        } else if (prompts != null || clipWeights != null || clipTextWeights != null) {
            throw new ParameterException(spec.commandLine(), "--prompts, --clip-weights and --clip-text-weights are for --clip-score");
        }
        Map<String, Double> metrics = new LinkedHashMap<>(); // what --out writes
        if (reference != null || statsOut != null) {
            if (inception == null) throw new ParameterException(spec.commandLine(), "--reference and --stats-out need --inception (pytorch-fid's weights)");
            Evaluator.Metrics m = inceptionMetrics(); // null with --stats-out alone
            if (m != null) metrics.putAll(m.named());
        }
        if (clipScore) {
            ClipScore.Result r = clip();
            System.out.printf(Locale.ROOT, "CLIP score: %.4f%n", r.score());
            if (r.torchmetrics() != r.score()) {
                System.out.printf(Locale.ROOT, "CLIP score as torchmetrics computes it, max(100 mean(cos), 0): %.4f (some cosines are negative)%n", r.torchmetrics());
            }
            metrics.put("clip_score", r.score());
            metrics.put("clip_score_torchmetrics", r.torchmetrics());
        }
        if (out != null && !metrics.isEmpty()) {
            metrics.replaceAll((name, v) -> v == null || !Double.isFinite(v) ? null : v); // JSON has no NaN: an undefined metric is null
            Files.writeString(out, new GsonBuilder().serializeNulls().setPrettyPrinting().create().toJson(metrics) + "\n");
            System.out.println("evaluate: wrote " + out);
        }
        return 0;
    }

    /** The CLIP score of the samples against their prompts. */
    private ClipScore.Result clip() {
        List<String> lines = CaptionFile.read(prompts);
        Path vocabulary = vocab != null ? vocab : OpenClipVocabularyFile.path();
        try (ClipScore score = ClipScore.load(clipWeights, clipTextWeights, vocabulary, deviceOption.device());
             ImageSource images = ImageSource.open(samples)) {
            System.out.printf("evaluate: CLIP image tower %s (%s), text tower %s%n", score.vision().config().name(), score.vision().config().layout(),
                    score.text().config().layout());
            Bars bars = new Bars("CLIP features");
            ClipScore.Result r = score.score(images, lines, batch, bars);
            bars.end();
            return r;
        }
    }

    /** FID and the rest: prints and returns them, or null when there is no reference (statistics only). */
    private Evaluator.Metrics inceptionMetrics() {
        if (!Files.exists(inception)) throw new ParameterException(spec.commandLine(), "--inception " + inception + " does not exist");
        try (InceptionV3 net = InceptionV3.load(inception, deviceOption.device())) {
            Evaluator evaluator = new Evaluator(net, batch);
            Bars bars = new Bars("Inception features");
            // the reference first: a bad reference file is reported before the samples' features are computed
            try (Evaluator.SetFeatures ref = reference == null ? null : evaluator.reference(reference, bars)) {
                bars.end();
                try (ImageSource images = ImageSource.open(samples); Evaluator.SetFeatures sampleSet = evaluator.extract(images, bars)) {
                    bars.end();
                    if (statsOut != null) {
                        Evaluator.writeStatistics(statsOut, sampleSet);
                        System.out.println("evaluate: wrote the statistics of " + samples + " to " + statsOut);
                    }
                    if (ref == null) return null;
                    Evaluator.Metrics m = evaluator.compare(sampleSet, ref);
                    System.out.printf(Locale.ROOT, "FID: %.4f%nsFID: %s%nInception Score: %s%nPrecision: %s%nRecall: %s%n", m.fid(),
                            text(m.sfid(), "the reference's mu_s, sigma_s or images"), text(m.inceptionScore(), "sample images"),
                            text(m.precision(), "the reference's images"), text(m.recall(), "the reference's images"));
                    return m;
                }
            }
        }
    }

    private static String text(Double v, String needs) {
        return v == null ? "n/a (needs " + needs + ")" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** One progress bar per set. */
    private static final class Bars implements Evaluator.Progress {
        private final String what;
        private Progress bar;
        private String source;

        Bars(String what) {
            this.what = what;
        }

        @Override
        public void at(String source, long done, long total) {
            if (bar == null || !source.equals(this.source)) {
                end();
                System.out.println("evaluate: " + what + " of " + source);
                bar = Progress.ofCount(total, "img");
                this.source = source;
            }
            bar.at(done);
        }

        void end() {
            if (bar != null) bar.done();
            bar = null;
        }
    }
}
