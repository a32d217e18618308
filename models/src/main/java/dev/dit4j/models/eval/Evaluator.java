package dev.dit4j.models.eval;

import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Npz;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * ADM's evaluation suite on dit4j's FID Inception: FID and sFID between the sample set's and the
 * reference's Inception statistics, the samples' Inception Score (ADM's splits of 5,000), and
 * k-NN precision and recall of the pool3 features. A reference may be images (an ADM .npz or a
 * folder) or precomputed statistics ({@code mu}, {@code sigma}, and {@code mu_s}, {@code sigma_s}
 * for sFID, as ADM's reference batches carry; when those are present they are used, as ADM does,
 * and the reference's images serve precision and recall only).
 */
public final class Evaluator {
    private final InceptionV3 net;
    private final int batch;

    public Evaluator(InceptionV3 net, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be positive, got " + batch);
        this.net = net;
        this.batch = batch;
    }

    /** Hears, after each batch, how many of a set's images are done. */
    @FunctionalInterface
    public interface Progress {
        void at(String source, long done, long total);

        Progress NONE = (source, done, total) -> {};
    }

    /** A set's pool3 features (CPU float32 [N, 2048], null when only statistics were given) and statistics (sFID's may be null). */
    public record SetFeatures(Tensor pool3, FeatureStatistics pool, FeatureStatistics spatial, String source) implements AutoCloseable {
        @Override
        public void close() {
            if (pool3 != null) pool3.close();
        }
    }

    /** The five numbers; those the inputs cannot give (no sFID statistics, no reference images) are null. */
    public record Metrics(double fid, Double sfid, Double inceptionScore, Double precision, Double recall) {
        /** The metrics by their JSON names (fid, sfid, inception_score, precision, recall), in that order; null where unknown or not finite. */
        public java.util.Map<String, Double> named() {
            java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
            m.put("fid", finite(fid));
            m.put("sfid", finite(sfid));
            m.put("inception_score", finite(inceptionScore));
            m.put("precision", finite(precision));
            m.put("recall", finite(recall));
            return m;
        }

        private static Double finite(Double v) {
            return v == null || !Double.isFinite(v) ? null : v;
        }
    }

    /** Features of every image of {@code images}; {@code progress} hears after each batch. */
    public SetFeatures extract(ImageSource images, Progress progress) {
        String source = images.describe();
        List<Tensor> pools = new ArrayList<>();
        try (FeatureStatistics.Accumulator pool = new FeatureStatistics.Accumulator(source + " pool3");
             FeatureStatistics.Accumulator spatial = new FeatureStatistics.Accumulator(source + " spatial")) {
            long done = 0;
            progress.at(source, 0, images.count());
            while (true) {
                try (TensorScope s = TensorScope.open()) {
                    Tensor x = images.next(batch);
                    if (x == null) break;
                    InceptionV3.Features f = net.features(x);
                    pool.add(f.pool3());
                    spatial.add(f.spatial());
                    pools.add(TensorScope.release(f.pool3().to(Device.CPU)));
                    done += x.size(0);
                }
                progress.at(source, done, images.count());
            }
            try (TensorScope s = TensorScope.open()) {
                return new SetFeatures(TensorScope.release(Tensor.cat(pools, 0)), pool.statistics(), spatial.statistics(), source);
            }
        } finally {
            pools.forEach(Tensor::close);
        }
    }

    /**
     * The reference at {@code path}: a folder, an ADM .npz of images ({@code arr_0}), one of
     * statistics ({@code mu}, {@code sigma}[, {@code mu_s}, {@code sigma_s}]), or both.
     */
    public SetFeatures reference(Path path, Progress progress) {
        if (Files.isDirectory(path)) {
            try (ImageSource images = ImageSource.open(path)) {
                return extract(images, progress);
            }
        }
        try (NpzFile npz = new NpzFile(path)) {
            if (!npz.has("mu") && !npz.has("arr_0")) {
                throw new IllegalArgumentException(path + " holds neither images 'arr_0' nor statistics 'mu', 'sigma'; it holds " + npz.names());
            }
            FeatureStatistics pool = null, spatial = null;
            if (npz.has("mu")) {
                pool = statistics(npz, "mu", "sigma", InceptionV3.POOL3, "pool3");
                if (npz.has("mu_s")) spatial = statistics(npz, "mu_s", "sigma_s", InceptionV3.SPATIAL, "sFID's spatial features");
            }
            if (!npz.has("arr_0")) return new SetFeatures(null, pool, spatial, path.toString());
            SetFeatures images;
            try (NpzFile again = new NpzFile(path); ImageSource source = ImageSource.npz(again)) {
                images = extract(source, progress);
            }
            if (pool == null) return images;
            return new SetFeatures(images.pool3(), pool, spatial != null ? spatial : images.spatial(), path.toString());
        }
    }

    private static FeatureStatistics statistics(NpzFile npz, String mu, String sigma, int width, String what) {
        if (!npz.has(sigma)) throw new IllegalArgumentException(npz.path() + " has '" + mu + "' but no '" + sigma + "'");
        try (TensorScope s = TensorScope.open()) {
            FeatureStatistics st = FeatureStatistics.of(npz.read(mu), npz.read(sigma), npz.path() + " '" + mu + "'/'" + sigma + "'");
            if (st.dim() != width) {
                throw new IllegalArgumentException(npz.path() + ": '" + mu + "' has " + st.dim() + " features, but the Inception's " + what
                        + " have " + width);
            }
            return st;
        }
    }

    /** FID, sFID, IS (of the samples) and precision/recall of {@code samples} against {@code reference}. */
    public Metrics compare(SetFeatures samples, SetFeatures reference) {
        double fid = FrechetDistance.between(samples.pool(), reference.pool());
        Double sfid = samples.spatial() != null && reference.spatial() != null ? FrechetDistance.between(samples.spatial(), reference.spatial()) : null;
        Double is = null, precision = null, recall = null;
        try (TensorScope s = TensorScope.open()) {
            if (samples.pool3() != null) {
                List<Tensor> logits = new ArrayList<>();
                for (long i = 0; i < samples.pool3().size(0); i += 4096) {
                    long n = Math.min(4096, samples.pool3().size(0) - i);
                    logits.add(net.unbiasedLogits(samples.pool3().narrow(0, i, n)).to(Device.CPU));
                }
                is = InceptionScore.of(Tensor.cat(logits, 0), InceptionScore.ADM_SPLIT_SIZE);
            }
            if (samples.pool3() != null && reference.pool3() != null) {
                Device d = net.device();
                PrecisionRecall.Result pr = PrecisionRecall.of(reference.pool3().to(d), samples.pool3().to(d));
                precision = pr.precision();
                recall = pr.recall();
            }
        }
        return new Metrics(fid, sfid, is, precision, recall);
    }

    /** Saves a set's statistics as an .npz with ADM's names: mu, sigma (pool3), mu_s, sigma_s (spatial), float64. */
    public static void writeStatistics(Path file, SetFeatures set) {
        List<Npz.Array> arrays = new ArrayList<>();
        arrays.add(float64("mu", set.pool().mu(), set.pool().dim()));
        arrays.add(float64("sigma", set.pool().sigma(), set.pool().dim(), set.pool().dim()));
        if (set.spatial() != null) {
            arrays.add(float64("mu_s", set.spatial().mu(), set.spatial().dim()));
            arrays.add(float64("sigma_s", set.spatial().sigma(), set.spatial().dim(), set.spatial().dim()));
        }
        Npz.write(file, arrays);
    }

    private static Npz.Array float64(String name, double[] values, long... shape) {
        return new Npz.Array(name, "<f8", 8, shape, out -> {
            ByteBuffer b = ByteBuffer.allocate(8 * 4096).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < values.length; i++) {
                b.putDouble(values[i]);
                if (!b.hasRemaining() || i == values.length - 1) {
                    out.write(b.array(), 0, b.position());
                    b.clear();
                }
            }
        });
    }

}
