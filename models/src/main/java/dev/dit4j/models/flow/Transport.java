package dev.dit4j.models.flow;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An interpolant between noise x0 (t = 0) and data x1 (t = 1), x_t = alpha_t x1 + sigma_t x0, as
 * SiT (Ma et al. 2024, willisma/SiT transport/) defines it: its paths (Linear, the rectified flow;
 * GVP; VP), what the network predicts (velocity, score or noise), the weight of its loss (none,
 * velocity, likelihood) and its epsilons that keep training and sampling off the singular ends.
 * Training time is drawn uniformly (SiT) or logit-normally (SD3, mean 0, std 1). Beyond SiT, the
 * network may predict the clean data ({@link Prediction#DATA}).
 *
 * @param path        the interpolant
 * @param prediction  what the network predicts
 * @param weight      the loss weight (read for score and noise prediction only, as SiT's)
 * @param trainEps    SiT's train_eps
 * @param sampleEps   SiT's sample_eps
 * @param time        how training draws t
 */
public record Transport(Path path, Prediction prediction, LossWeight weight, double trainEps, double sampleEps, TimeSampling time) {
    /** Metadata of a dit4j checkpoint trained with a transport objective: the path (its presence marks one). */
    public static final String PATH_KEY = "transport_path";
    public static final String PREDICTION_KEY = "transport_prediction", WEIGHT_KEY = "transport_loss_weight", TRAIN_EPS_KEY = "transport_train_eps",
            SAMPLE_EPS_KEY = "transport_sample_eps", TIME_KEY = "transport_time_sampling";

    /** SiT's interpolants (path.py's ICPlan, GVPCPlan, VPCPlan). */
    public enum Path {
        /** alpha_t = t, sigma_t = 1 - t (rectified flow). */
        LINEAR,
        /** alpha_t = sin(pi t / 2), sigma_t = cos(pi t / 2). */
        GVP,
        /** The VP-SDE's, beta from 0.1 to 20. */
        VP;

        static final double VP_SIGMA_MIN = 0.1, VP_SIGMA_MAX = 20.0;

        public static Path parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "linear", "rf", "rectified-flow" -> LINEAR;
                case "gvp" -> GVP;
                case "vp" -> VP;
                default -> throw new IllegalArgumentException("'" + text + "': expected linear, gvp or vp");
            };
        }

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** SiT's name (its --path-type): Linear, GVP, VP. */
        public String sitName() {
            return this == LINEAR ? "Linear" : name();
        }

        /** alpha_t, d alpha_t / dt, sigma_t, d sigma_t / dt at t expanded like x (compute_alpha_t, compute_sigma_t). */
        Coefficients coefficients(Tensor t) {
            try (TensorScope s = TensorScope.open()) {
                Tensor alpha, dAlpha, sigma, dSigma;
                switch (this) {
                    case LINEAR -> {
                        alpha = t.mul(1);
                        dAlpha = Tensor.full(1, t.shape(), t.dtype(), t.device());
                        sigma = t.rsub(1);
                        dSigma = Tensor.full(-1, t.shape(), t.dtype(), t.device());
                    }
                    case GVP -> {
                        Tensor a = t.mul(Math.PI / 2);
                        alpha = a.sin();
                        dAlpha = a.cos().mul(Math.PI / 2);
                        sigma = a.cos();
                        dSigma = a.sin().mul(-Math.PI / 2);
                    }
                    default -> {
                        Tensor lmc = logMeanCoeff(t);
                        Tensor dlmc = dLogMeanCoeff(t);
                        alpha = lmc.exp();
                        dAlpha = alpha.mul(dlmc);
                        Tensor p = lmc.mul(2);
                        sigma = p.exp().rsub(1).sqrt();
                        dSigma = p.exp().mul(dlmc.mul(2)).div(sigma.mul(-2));
                    }
                }
                return new Coefficients(s.keep(alpha), s.keep(dAlpha), s.keep(sigma), s.keep(dSigma));
            }
        }

        private static Tensor logMeanCoeff(Tensor t) {
            Tensor u = t.rsub(1);
            return u.square().mul(-0.25).mul(VP_SIGMA_MAX - VP_SIGMA_MIN).sub(u.mul(0.5 * VP_SIGMA_MIN));
        }

        private static Tensor dLogMeanCoeff(Tensor t) {
            return t.rsub(1).mul(0.5).mul(VP_SIGMA_MAX - VP_SIGMA_MIN).add(0.5 * VP_SIGMA_MIN);
        }

        /** sigma_t alone. */
        Tensor sigma(Tensor t) {
            try (TensorScope s = TensorScope.open(); Coefficients c = coefficients(t)) {
                return s.keep(c.sigma().mul(1));
            }
        }

        /**
         * SiT's compute_drift: the drift mean f(x, t) and variance g(t) of the SDE in score form;
         * x's drift is -mean + var * score.
         */
        Tensor[] drift(Tensor x, Tensor t) {
            try (TensorScope s = TensorScope.open()) {
                if (this == VP) {
                    Tensor beta = t.rsub(1).mul(VP_SIGMA_MAX - VP_SIGMA_MIN).add(VP_SIGMA_MIN);
                    return new Tensor[] {s.keep(beta.mul(-0.5).mul(x)), s.keep(beta.div(2))};
                }
                Tensor ratio = this == LINEAR ? t.reciprocal() : t.mul(Math.PI / 2).sin().div(t.mul(Math.PI / 2).cos()).mul(2).rdiv(Math.PI);
                try (Coefficients c = coefficients(t)) {
                    Tensor var = ratio.mul(c.sigma().square()).sub(c.sigma().mul(c.dSigma()));
                    return new Tensor[] {s.keep(ratio.mul(x).neg()), s.keep(var)};
                }
            }
        }

        /** SiT's compute_diffusion of {@code form} with {@code norm} (a tensor broadcasting like t). */
        Tensor diffusion(Tensor x, Tensor t, DiffusionForm form, double norm) {
            try (TensorScope s = TensorScope.open()) {
                Tensor d = switch (form) {
                    case CONSTANT -> Tensor.full(norm, t.shape(), t.dtype(), t.device());
                    case SBDM -> drift(x, t)[1].mul(norm);
                    case SIGMA -> sigma(t).mul(norm);
                    case LINEAR -> t.rsub(1).mul(norm);
                    case DECREASING -> t.mul(Math.PI).cos().mul(norm).add(1).square().mul(0.25);
                    case INCREASING_DECREASING -> t.mul(Math.PI).sin().square().mul(norm);
                };
                return s.keep(d);
            }
        }

        /**
         * The velocity a data prediction x1 implies, d alpha_t x1 + d sigma_t x0 with the noise
         * x0 = (x_t - alpha_t x1) / sigma_t, written over one division by sigma_t held at
         * {@link #DATA_SIGMA_MIN} or more, so that it stays finite at the data end; on the Linear
         * path that is JiT's (x1 - x_t) / max(1 - t, 0.05).
         */
        Tensor velocityFromData(Tensor data, Tensor x, Tensor t) {
            try (TensorScope s = TensorScope.open(); Coefficients c = coefficients(t)) {
                Tensor numerator = c.dAlpha().mul(c.sigma()).mul(data).add(c.dSigma().mul(x.sub(c.alpha().mul(data))));
                return s.keep(numerator.div(c.sigma().clampMin(DATA_SIGMA_MIN)));
            }
        }

        /** SiT's get_score_from_velocity. */
        Tensor scoreFromVelocity(Tensor velocity, Tensor x, Tensor t) {
            try (TensorScope s = TensorScope.open(); Coefficients c = coefficients(t)) {
                Tensor reverseAlphaRatio = c.alpha().div(c.dAlpha());
                Tensor var = c.sigma().square().sub(reverseAlphaRatio.mul(c.dSigma()).mul(c.sigma()));
                return s.keep(reverseAlphaRatio.mul(velocity).sub(x).div(var));
            }
        }
    }

    /** The interpolant's coefficients at some t. */
    record Coefficients(Tensor alpha, Tensor dAlpha, Tensor sigma, Tensor dSigma) implements AutoCloseable {
        @Override
        public void close() {
            alpha.close();
            dAlpha.close();
            sigma.close();
            dSigma.close();
        }
    }

    /**
     * What the network predicts: SiT's ModelType (velocity, score, noise), or the clean data, which
     * is trained and sampled through the velocity it implies (JiT, Li and He 2025: data is
     * low-dimensional where noise and velocity are not, so wide tokens can still be denoised).
     */
    public enum Prediction {
        VELOCITY, SCORE, NOISE, DATA;

        public static Prediction parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "velocity", "v" -> VELOCITY;
                case "score" -> SCORE;
                case "noise", "eps", "epsilon" -> NOISE;
                case "data", "x" -> DATA;
                default -> throw new IllegalArgumentException("'" + text + "': expected velocity, score, noise or data");
            };
        }

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** SiT's WeightType: the weight of the score and noise losses. */
    public enum LossWeight {
        NONE, VELOCITY, LIKELIHOOD;

        public static LossWeight parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "none" -> NONE;
                case "velocity" -> VELOCITY;
                case "likelihood" -> LIKELIHOOD;
                default -> throw new IllegalArgumentException("'" + text + "': expected none, velocity or likelihood");
            };
        }

        public String flag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How training draws t: uniformly on [t0, t1] (SiT), or as sigmoid of N(0, 1) mapped onto it (SD3's logit-normal). */
    public enum TimeSampling {
        UNIFORM, LOGIT_NORMAL;

        /** SD3's logit-normal location and scale. */
        public static final double LOGIT_MEAN = 0, LOGIT_STD = 1;

        public static TimeSampling parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "uniform" -> UNIFORM;
                case "logit-normal", "logitnormal", "lognorm" -> LOGIT_NORMAL;
                default -> throw new IllegalArgumentException("'" + text + "': expected uniform or logit-normal");
            };
        }

        public String flag() {
            return this == UNIFORM ? "uniform" : "logit-normal";
        }
    }

    /** SiT's diffusion coefficient forms for SDE sampling (path.py compute_diffusion). */
    public enum DiffusionForm {
        CONSTANT, SBDM, SIGMA, LINEAR, DECREASING, INCREASING_DECREASING;

        public static DiffusionForm parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "constant" -> CONSTANT;
                case "sbdm" -> SBDM;
                case "sigma" -> SIGMA;
                case "linear" -> LINEAR;
                case "decreasing" -> DECREASING;
                case "increasing-decreasing" -> INCREASING_DECREASING;
                default -> throw new IllegalArgumentException("'" + text + "': expected constant, SBDM, sigma, linear, decreasing or increasing-decreasing");
            };
        }
    }

    public Transport {
        if (path == null || prediction == null || weight == null || time == null) throw new IllegalArgumentException("a transport needs its path, prediction, weight and time sampling");
        if (!(trainEps >= 0 && trainEps < 0.5) || !(sampleEps >= 0 && sampleEps < 0.5)) {
            throw new IllegalArgumentException("epsilons must lie in [0, 0.5), got train " + trainEps + ", sample " + sampleEps);
        }
    }

    /** The least sigma_t a data prediction is divided by (JiT's 0.05). */
    public static final double DATA_SIGMA_MIN = 0.05;

    /** SiT's train.py and sample.py defaults for the epsilons (--train-eps 1e-5, --sample-eps 1e-3). */
    public static final double DEFAULT_TRAIN_EPS = 1e-5, DEFAULT_SAMPLE_EPS = 1e-3;

    /** SiT's default: the Linear path with velocity prediction (its released SiT-XL/2), uniform time. */
    public static Transport sit() {
        return create(Path.LINEAR, Prediction.VELOCITY, LossWeight.NONE, null, null, TimeSampling.UNIFORM);
    }

    /**
     * SiT's create_transport as its train.py and sample.py call it: VP, and Linear and GVP with
     * score or noise prediction, keep the epsilons given (null: the scripts' defaults, train
     * 1e-5, sample 1e-3); Linear and GVP with velocity prediction, which is stable everywhere,
     * use 0 for both.
     */
    public static Transport create(Path path, Prediction prediction, LossWeight weight, Double trainEps, Double sampleEps, TimeSampling time) {
        double train = trainEps != null ? trainEps : DEFAULT_TRAIN_EPS, sample = sampleEps != null ? sampleEps : DEFAULT_SAMPLE_EPS;
        if (path != Path.VP && prediction == Prediction.VELOCITY) {
            train = 0;
            sample = 0;
        }
        return new Transport(path, prediction, weight, train, sample, time);
    }

    /** A new transport with its time drawn as {@code t}. */
    public Transport withTime(TimeSampling t) {
        return new Transport(path, prediction, weight, trainEps, sampleEps, t);
    }

    /**
     * SiT's check_interval: the [t0, t1] training draws from ({@code sample} false) or sampling
     * runs over ({@code sample} true; SDE with its diffusion form and last step).
     */
    public double[] interval(boolean sample, boolean sde, DiffusionForm form, double lastStepSize) {
        double t0 = 0, t1 = 1;
        double eps = sample ? sampleEps : trainEps;
        if (path == Path.VP) {
            t1 = !sde || lastStepSize == 0 ? 1 - eps : 1 - lastStepSize;
        } else if (prediction != Prediction.VELOCITY || sde) {
            t0 = (form == DiffusionForm.SBDM && sde) || prediction != Prediction.VELOCITY ? eps : 0;
            t1 = !sde || lastStepSize == 0 ? 1 - eps : 1 - lastStepSize;
        }
        return new double[] {t0, t1};
    }

    /** The training interval. */
    public double[] trainInterval() {
        return interval(false, false, DiffusionForm.SBDM, 0);
    }

    /** What a checkpoint records of this transport. */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PATH_KEY, path.flag());
        m.put(PREDICTION_KEY, prediction.flag());
        m.put(WEIGHT_KEY, weight.flag());
        m.put(TRAIN_EPS_KEY, Double.toString(trainEps));
        m.put(SAMPLE_EPS_KEY, Double.toString(sampleEps));
        m.put(TIME_KEY, time.flag());
        return m;
    }

    /** The transport a checkpoint records, or null when it records none; refused by name when malformed. */
    public static Transport fromMetadata(Map<String, String> m) {
        String p = m.get(PATH_KEY);
        if (p == null) return null;
        try {
            Prediction pred = Prediction.parse(m.getOrDefault(PREDICTION_KEY, "velocity"));
            Path path = Path.parse(p);
            Transport t = create(path, pred, LossWeight.parse(m.getOrDefault(WEIGHT_KEY, "none")), null, null,
                    TimeSampling.parse(m.getOrDefault(TIME_KEY, "uniform")));
            double train = m.containsKey(TRAIN_EPS_KEY) ? Double.parseDouble(m.get(TRAIN_EPS_KEY)) : t.trainEps;
            double sample = m.containsKey(SAMPLE_EPS_KEY) ? Double.parseDouble(m.get(SAMPLE_EPS_KEY)) : t.sampleEps;
            return new Transport(path, pred, t.weight, train, sample, t.time);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the checkpoint's transport metadata is not valid: " + e.getMessage(), e);
        }
    }

    /** "Linear path, velocity prediction, uniform time". */
    public String describe() {
        boolean weighted = (prediction == Prediction.SCORE || prediction == Prediction.NOISE) && weight != LossWeight.NONE;
        return path.sitName() + " path, " + prediction.flag() + " prediction" + (weighted ? ", " + weight.flag() + " weight" : "")
                + ", " + time.flag() + " time";
    }
}
