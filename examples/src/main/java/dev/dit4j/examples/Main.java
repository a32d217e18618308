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
    public static void main(String[] args) throws Exception {
        try {
            if (Launcher.processesRequested(args) > 0) System.exit(Launcher.launch(args, System.getenv()));
        } catch (IllegalArgumentException e) {
            System.err.println("dit4j: " + e.getMessage());
            System.exit(2);
        }
        System.exit(new CommandLine(new Main()).execute(args));
    }

    /** The main job: report the installation, then train a DiT on Fashion-MNIST on its defaults. */
    @Override
    public Integer call() {
        new Doctor().run();
        System.out.println();
        return new CommandLine(new TrainDiT()).execute(); // through picocli: its checks and usage errors apply as to 'train'
    }
}
