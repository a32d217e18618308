package dev.dit4j.examples;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The dit4j command line. With no command it runs the main job on its defaults. */
@Command(name = "dit4j", mixinStandardHelpOptions = true, version = "dit4j 0.1.0",
        description = "Diffusion transformers in Java on libtorch.",
        footer = {"", "Data-parallel: add --nproc-per-node N to a training command to start N workers on this machine",
                "(multi-node: NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT; torchrun/SLURM-started processes read RANK, WORLD_SIZE, ...)."},
        subcommands = {Doctor.class, TrainDiT.class, TrainLatents.class, Sample.class, ExtractLatents.class, TrainVae.class, MlpDemo.class,
                Parity.class, Evaluate.class, Flops.class, Tokenize.class, T2iDemo.class, Clipart512Demo.class})
public final class Main implements Callable<Integer> {
    /** Reports failures in one line ({@link Failures}); {@code --verbose} anywhere adds their stack traces. */
    private static Failures failures = new Failures(false);

    public static void main(String[] args) throws Exception {
        failures = new Failures(Failures.verbose(args, System.getenv()));
        String[] rest = java.util.Arrays.stream(args).filter(a -> !a.equals(Failures.VERBOSE)).toArray(String[]::new);
        try {
            if (Launcher.processesRequested(rest) > 0) System.exit(Launcher.launch(rest, System.getenv()));
        } catch (IllegalArgumentException e) {
            System.err.println("dit4j: " + e.getMessage());
            System.exit(2);
        }
        StopSignals.installImmediate(); // SIGTERM / SIGINT: stop at once (training commands make it graceful)
        System.exit(failures.install(new CommandLine(new Main())).execute(rest));
    }

    /** The main job: report the installation, then train a DiT on Fashion-MNIST on its defaults. */
    @Override
    public Integer call() {
        new Doctor().run();
        System.out.println();
        return failures.install(new CommandLine(new TrainDiT())).execute(); // through picocli: its checks and usage errors apply as to 'train'
    }
}
