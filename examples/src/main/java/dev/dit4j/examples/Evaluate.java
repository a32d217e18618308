package dev.dit4j.examples;

import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.models.eval.Evaluator;
import dev.dit4j.models.eval.ImageSource;
import dev.dit4j.models.eval.InceptionV3;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** ADM's evaluation (FID, sFID, Inception Score, precision, recall) of a sample set against a reference. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "FID, sFID, Inception Score, precision and recall of --samples against --reference, with pytorch-fid's "
                + "Inception weights (pt_inception-2015-12-05-6726825d.pth). Sets are ADM .npz files (arr_0 uint8 [N,H,W,3]) or "
                + "image folders; the reference may be statistics (mu, sigma, mu_s, sigma_s) as ADM's reference batches carry.")
public final class Evaluate implements Callable<Integer> {
    @Option(names = "--samples", required = true, description = "ADM .npz (arr_0) or folder of images")
    Path samples;

    @Option(names = "--reference", description = "ADM .npz (images and/or mu, sigma[, mu_s, sigma_s]) or folder of images")
    Path reference;

    @Option(names = "--inception", required = true, description = "pytorch-fid's Inception weights (.pth)")
    Path inception;

    @Option(names = "--out", description = "write the metrics as JSON: fid, sfid, inception_score, precision, recall")
    Path out;

    @Option(names = "--stats-out", description = "save the samples' statistics (mu, sigma, mu_s, sigma_s) as .npz, usable as a --reference")
    Path statsOut;

    @Option(names = "--batch", converter = Numbers.PositiveInt.class, description = "images per Inception batch (default ${DEFAULT-VALUE})")
    int batch = 50;

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (reference == null && statsOut == null) {
            throw new ParameterException(spec.commandLine(), "give --reference to compare with, or --stats-out to save the samples' statistics");
        }
        for (Path o : new Path[] {out, statsOut}) {
            if (o == null) continue;
            OutputPaths.requireDistinct(spec, "an output", o, "--samples", samples);
            if (reference != null) OutputPaths.requireDistinct(spec, "an output", o, "--reference", reference);
        }
        if (!Files.exists(inception)) throw new ParameterException(spec.commandLine(), "--inception " + inception + " does not exist");
        try (InceptionV3 net = InceptionV3.load(inception, deviceOption.device())) {
            Evaluator evaluator = new Evaluator(net, batch);
            Bars bars = new Bars();
            // the reference first: a bad reference file is reported before the samples' features are computed
            try (Evaluator.SetFeatures ref = reference == null ? null : evaluator.reference(reference, bars)) {
                bars.end();
                try (ImageSource images = ImageSource.open(samples); Evaluator.SetFeatures sampleSet = evaluator.extract(images, bars)) {
                    bars.end();
                    if (statsOut != null) {
                        Evaluator.writeStatistics(statsOut, sampleSet);
                        System.out.println("evaluate: wrote the statistics of " + samples + " to " + statsOut);
                    }
                    if (ref == null) return 0;
                    Evaluator.Metrics m = evaluator.compare(sampleSet, ref);
                    System.out.printf(Locale.ROOT, "FID: %.4f%nsFID: %s%nInception Score: %s%nPrecision: %s%nRecall: %s%n", m.fid(),
                            text(m.sfid(), "the reference's mu_s, sigma_s or images"), text(m.inceptionScore(), "sample images"),
                            text(m.precision(), "the reference's images"), text(m.recall(), "the reference's images"));
                    if (out != null) {
                        Files.writeString(out, m.toJson() + "\n");
                        System.out.println("evaluate: wrote " + out);
                    }
                }
            }
        }
        return 0;
    }

    private static String text(Double v, String needs) {
        return v == null ? "n/a (needs " + needs + ")" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** One progress bar per set. */
    private static final class Bars implements Evaluator.Progress {
        private Progress bar;
        private String source;

        @Override
        public void at(String source, long done, long total) {
            if (bar == null || !source.equals(this.source)) {
                end();
                System.out.println("evaluate: Inception features of " + source);
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
