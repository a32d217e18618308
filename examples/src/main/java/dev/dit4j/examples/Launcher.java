package dev.dit4j.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./dit4j <command> ... --nproc-per-node N}: starts N workers of the command on this
 * machine, as torchrun does: child JVMs with {@code MASTER_ADDR}, {@code MASTER_PORT},
 * {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK} and {@code LOCAL_WORLD_SIZE} set, each
 * line of their output prefixed by {@code [rank r]}. When one worker fails, the others are
 * stopped and the launcher exits with the failed worker's status.
 *
 * <p>Multi-node: run the launcher once per node with {@code NNODES}, {@code NODE_RANK} and
 * {@code MASTER_ADDR} (and {@code MASTER_PORT}) in the environment; ranks are
 * {@code NODE_RANK * N + local rank}. Without the flag (a torchrun or SLURM job that starts every
 * process itself), the command reads the same variables directly.
 */
final class Launcher {
    static final String FLAG = "--nproc-per-node";
    /** The commands that train data-parallel from the launcher's environment (no command: the main job, train). */
    static final List<String> DATA_PARALLEL_COMMANDS = List.of("train", "train-dit", "train-latents");

    private Launcher() {}

    /** The value of --nproc-per-node N / --nproc-per-node=N in args, or -1 when absent. */
    static int processesRequested(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(FLAG)) return parse(i + 1 < args.length ? args[i + 1] : null);
            if (args[i].startsWith(FLAG + "=")) return parse(args[i].substring(FLAG.length() + 1));
        }
        return -1;
    }

    private static int parse(String text) {
        try {
            int n = Integer.parseInt(text == null ? "" : text.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(FLAG + " needs a process count >= 1, got '" + text + "'");
    }

    /** args without the launcher's flag: what each worker runs. */
    static List<String> workerArgs(String[] args) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(FLAG)) i++;
            else if (!args[i].startsWith(FLAG + "=")) out.add(args[i]);
        }
        return out;
    }

    /** Starts the workers, relays their output, returns the job's exit status. */
    static int launch(String[] args, Map<String, String> env) throws IOException, InterruptedException {
        int perNode = processesRequested(args);
        String subcommand = java.util.Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst().orElse("train");
        if (!DATA_PARALLEL_COMMANDS.contains(subcommand)) {
            throw new IllegalArgumentException(subcommand + " runs in one process: " + FLAG + " is for " + String.join(", ", DATA_PARALLEL_COMMANDS));
        }
        int nodes = positive(env, "NNODES", 1);
        int nodeRank = positive(env, "NODE_RANK", 0);
        if (nodeRank >= nodes) throw new IllegalArgumentException("NODE_RANK " + nodeRank + " must be below NNODES " + nodes);
        String addr = env.get("MASTER_ADDR");
        if (addr == null || addr.isBlank()) {
            if (nodes > 1) throw new IllegalArgumentException("a multi-node job (NNODES " + nodes + ") needs MASTER_ADDR: node 0's address");
            addr = "127.0.0.1";
        }
        try {
            java.net.InetAddress.getByName(addr);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("MASTER_ADDR " + addr + " is not an address or a host name this machine can resolve: "
                    + "set it to node 0's address (or leave it unset on one machine: 127.0.0.1)");
        }
        String port = env.get("MASTER_PORT");
        if (port == null || port.isBlank()) {
            if (nodes > 1) throw new IllegalArgumentException("a multi-node job (NNODES " + nodes + ") needs MASTER_PORT, the same on every node");
            port = Integer.toString(freePort());
        }
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(workerArgs(args));

        List<Process> workers = new ArrayList<>();
        List<Thread> relays = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> workers.forEach(Process::destroy))); // an exit stops the job
        // SIGTERM / SIGINT: each worker finishes its step and writes the checkpoint (ranks agree), then all exit 143 / 130;
        // a second signal kills them at once.
        StopSignals.install();
        StopSignals.onFirst(() -> List.copyOf(workers).forEach(w -> w.toHandle().destroy())); // the handle: Process.destroy closes the relays
        StopSignals.onSecond(() -> List.copyOf(workers).forEach(Process::destroyForcibly));
        for (int local = 0; local < perNode; local++) {
            int rank = nodeRank * perNode + local;
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().putAll(Map.of("MASTER_ADDR", addr, "MASTER_PORT", port, "RANK", Integer.toString(rank),
                    "WORLD_SIZE", Integer.toString(nodes * perNode), "LOCAL_RANK", Integer.toString(local),
                    "LOCAL_WORLD_SIZE", Integer.toString(perNode)));
            Process p = pb.start();
            workers.add(p);
            relays.add(relay(p, "[rank " + rank + "] ", System.out));
        }
        System.err.printf("dit4j: started %d worker(s), ranks %d..%d of %d, rendezvous %s:%s%n", perNode, nodeRank * perNode,
                nodeRank * perNode + perNode - 1, nodes * perNode, addr, port);
        int status = awaitAll(workers);
        for (Thread t : relays) t.join(TimeUnit.SECONDS.toMillis(5));
        return status;
    }

    /** Waits until all exit; the first failure stops the rest (SIGTERM, then SIGKILL after 10 s). */
    private static int awaitAll(List<Process> workers) throws InterruptedException {
        List<Process> running = new ArrayList<>(workers);
        int failed = 0;
        while (!running.isEmpty()) {
            for (Process p : List.copyOf(running)) {
                if (p.isAlive()) continue;
                running.remove(p);
                int code = p.exitValue();
                if (StopSignals.requested()) { // stopping on a signal: every worker writes its part, wait for all
                    if (code != 0 && code != 130 && code != 143 && failed == 0) failed = code;
                    continue;
                }
                if (code != 0) {
                    int rank = workers.indexOf(p);
                    System.err.printf("dit4j: worker %d (local rank) exited with status %d: stopping the others%n", rank, p.exitValue());
                    stop(running);
                    return p.exitValue();
                }
            }
            Thread.sleep(50);
        }
        return failed != 0 ? failed : StopSignals.exitCode(0);
    }

    private static void stop(List<Process> running) throws InterruptedException {
        running.forEach(Process::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Process p : running) {
            if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) p.destroyForcibly().waitFor();
        }
    }

    private static Thread relay(Process p, String prefix, PrintStream to) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (to) {
                        to.println(prefix + line);
                    }
                }
            } catch (IOException e) {
                // the worker is gone; its status tells the rest
            }
        }, "dit4j-relay-" + prefix.trim());
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static int positive(Map<String, String> env, String name, int fallback) {
        String text = env.get(name);
        if (text == null || text.isBlank()) return fallback;
        try {
            int v = Integer.parseInt(text.trim());
            if (v >= 0) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a non-negative integer, got '" + text + "'");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
