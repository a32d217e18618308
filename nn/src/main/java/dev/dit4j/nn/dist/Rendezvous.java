package dev.dit4j.nn.dist;

import java.util.Map;
import java.util.Optional;

/**
 * Where a process stands in a job and where the job meets: the variables torchrun and SLURM
 * launchers set ({@code MASTER_ADDR}, {@code MASTER_PORT}, {@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}). Rank 0 serves the c10d TCP store at masterAddr:masterPort.
 */
public record Rendezvous(String masterAddr, int masterPort, int rank, int worldSize, int localRank) {
    public Rendezvous {
        if (masterAddr == null || masterAddr.isBlank()) throw new IllegalArgumentException("MASTER_ADDR is empty");
        if (masterPort < 1 || masterPort > 65535) throw new IllegalArgumentException("MASTER_PORT must lie in [1, 65535], got " + masterPort);
        if (worldSize < 1) throw new IllegalArgumentException("WORLD_SIZE must be >= 1, got " + worldSize);
        if (rank < 0 || rank >= worldSize) throw new IllegalArgumentException("RANK " + rank + " lies outside WORLD_SIZE " + worldSize);
        if (localRank < 0) throw new IllegalArgumentException("LOCAL_RANK must be >= 0, got " + localRank);
    }

    /** The job from the process environment; empty when {@code WORLD_SIZE} is not set (a single process). */
    public static Optional<Rendezvous> fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * The job from {@code env}; empty without {@code WORLD_SIZE}. {@code MASTER_ADDR} defaults to
     * 127.0.0.1 and {@code MASTER_PORT} to 29500 (as torchrun); {@code RANK} is required, and
     * {@code LOCAL_RANK} defaults to {@code RANK}.
     */
    public static Optional<Rendezvous> fromEnvironment(Map<String, String> env) {
        if (env.get("WORLD_SIZE") == null) return Optional.empty();
        int world = number(env, "WORLD_SIZE", null);
        int rank = number(env, "RANK", null);
        int localRank = number(env, "LOCAL_RANK", rank);
        return Optional.of(new Rendezvous(env.getOrDefault("MASTER_ADDR", "127.0.0.1"), number(env, "MASTER_PORT", 29500), rank, world, localRank));
    }

    private static int number(Map<String, String> env, String name, Integer fallback) {
        String text = env.get(name);
        if (text == null || text.isBlank()) {
            if (fallback == null) throw new IllegalArgumentException(name + " is not set (WORLD_SIZE is, so this is a distributed job)");
            return fallback;
        }
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + text + "'");
        }
    }

    /** The variables {@link #fromEnvironment} reads, to start a worker with. */
    public Map<String, String> environment() {
        return Map.of("MASTER_ADDR", masterAddr, "MASTER_PORT", Integer.toString(masterPort), "RANK", Integer.toString(rank),
                "WORLD_SIZE", Integer.toString(worldSize), "LOCAL_RANK", Integer.toString(localRank));
    }
}
