package dev.dit4j.examples.options;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.family.Recipe;
import dev.dit4j.models.flow.Transport;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --objective}: the family's own training objective, or SiT's transport ({@code flow}) with
 * its interpolant, prediction, loss weight and time sampling. The flow settings are refused
 * without {@code --objective flow}, so that a typo cannot silently train the default.
 */
public final class ObjectiveOption {
    @Option(names = "--objective", description = "default (the family's own objective) or flow (SiT's transport, sampled with its ODE) (default ${DEFAULT-VALUE})")
    private String objective;

    @Option(names = "--path", description = "flow: the interpolant, linear (rectified flow), gvp or vp (default ${DEFAULT-VALUE})")
    private String path = "linear";

    @Option(names = "--prediction", description = "flow: what the network predicts, velocity, score, noise or data (the clean latents; default ${DEFAULT-VALUE})")
    private String prediction;

    @Option(names = "--loss-weight", description = "flow: the score or noise loss's weight, none, velocity or likelihood (default ${DEFAULT-VALUE})")
    private String lossWeight = "none";

    @Option(names = "--time-sampling", description = "flow: training time uniform (SiT) or logit-normal (SD3) (default ${DEFAULT-VALUE})")
    private String timeSampling = "uniform";

    private final String defaultPrediction;

    /** The family's own objective unless --objective flow, which predicts velocity unless --prediction. */
    public ObjectiveOption() {
        this("default", "velocity");
    }

    /** A command's own defaults for --objective and --prediction (a demo that reaches its samples with them). */
    public ObjectiveOption(String objective, String prediction) {
        this.objective = objective;
        this.prediction = prediction;
        this.defaultPrediction = prediction;
    }

    /** The transport --objective flow asks for; null for the family's own objective. */
    public Transport transport(CommandSpec spec) {
        String o = objective.trim().toLowerCase(Locale.ROOT);
        boolean flowOptions = !path.equals("linear") || !prediction.equals(defaultPrediction) || !lossWeight.equals("none") || !timeSampling.equals("uniform");
        if (o.equals("default") || o.equals("ddpm") || o.equals("family")) {
            if (flowOptions) throw new ParameterException(spec.commandLine(), "--path, --prediction, --loss-weight and --time-sampling need --objective flow");
            return null;
        }
        if (!o.equals("flow")) throw new ParameterException(spec.commandLine(), "unknown --objective '" + objective + "': expected default or flow");
        try {
            return Transport.create(Transport.Path.parse(path), Transport.Prediction.parse(prediction), Transport.LossWeight.parse(lossWeight), null, null,
                    Transport.TimeSampling.parse(timeSampling));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** {@code recipe} with the asked-for transport in place of its objective, or unchanged. */
    public Recipe applyTo(Recipe recipe, DiffusionConfig<?> config, CommandSpec spec) {
        Transport t = transport(spec);
        return t == null ? recipe : recipe.withTransport(t, config);
    }
}
