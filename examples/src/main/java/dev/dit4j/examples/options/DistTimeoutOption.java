package dev.dit4j.examples.options;

import dev.dit4j.nn.dist.ProcessGroup;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * {@code --dist-timeout SECONDS}: how long a data-parallel rank waits for the others, to join and
 * in every collective (default: {@code DIT4J_DIST_TIMEOUT}, else 5 minutes).
 */
public final class DistTimeoutOption {
    @Option(names = "--dist-timeout", paramLabel = "SECONDS", converter = Numbers.Positive.class,
            description = "data-parallel: seconds a rank waits for the others to join and in each collective (default: DIT4J_DIST_TIMEOUT, else 300)")
    private Double seconds;

    public Duration timeout() {
        if (seconds != null) return Duration.ofMillis(Math.max(1, Math.round(seconds * 1000)));
        return ProcessGroup.timeoutFromEnvironment(System.getenv());
    }
}
