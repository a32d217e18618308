package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.ObjectiveOption;
import dev.dit4j.models.flow.Transport;
import dev.dit4j.nn.Device;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The shared option mixins keep each command's flags, defaults and help as they were. */
class SharedOptionsTest {
    private static final String[] LATENTS_REQUIRED = {"--model", "DiT-S/8", "--latents", "x.safetensors"};

    @Test
    void eachCommandKeepsItsOwnDefaults() {
        TrainDiT dit = new TrainDiT();
        new CommandLine(dit).parseArgs();
        assertEquals(64, dit.batchOption.batch());
        assertEquals(1e-3, dit.lrOption.lr());
        assertEquals(0.995, dit.emaOption.decay());
        assertEquals(0, dit.seedOption.seed());
        assertEquals(Device.CPU, dit.deviceOption.device());
        assertEquals(Path.of("out", "uvit-fashion"), dit.outOption.dir(() -> Path.of("out", "uvit-fashion")), "no --out: derived");

        TrainLatents latents = new TrainLatents();
        new CommandLine(latents).parseArgs(LATENTS_REQUIRED);
        assertEquals(256, latents.batchOption.batch());
        assertEquals(2e-4, latents.lrOption.lr(2e-4), "no --lr: the family's");
        assertEquals(0.9999, latents.emaOption.decay());
        assertEquals(Path.of("out", "latents"), latents.outOption.dir());
        assertEquals("DiT-S/8", latents.presetOption.name());

        MlpDemo mlp = new MlpDemo();
        new CommandLine(mlp).parseArgs();
        assertEquals(1e-2, mlp.lrOption.lr());

        T2iDemo t2i = new T2iDemo();
        new CommandLine(t2i).parseArgs();
        assertEquals(64, t2i.batchOption.batch());
        assertEquals(1e-3, t2i.lrOption.lr());
        assertEquals(Path.of("out", "t2i-demo"), t2i.outOption.dir());

        TrainVae vae = new TrainVae();
        new CommandLine(vae).parseArgs("--images", "x");
        assertEquals(8, vae.batchOption.batch());
        assertEquals(1e-4, vae.lrOption.lr());
        assertEquals(Path.of("out/vae"), vae.outOption.dir());
    }

    @Test
    void theObjectiveIsTheCommandsUnlessFlowIsAskedFor() {
        // a fresh command for each parse: picocli takes a reused one's current values as its defaults
        for (Supplier<Object> command : List.<Supplier<Object>>of(TrainDiT::new, TrainLatents::new, T2iDemo::new, Clipart512Demo::new)) {
            String[] required = command.get() instanceof TrainLatents ? LATENTS_REQUIRED : new String[0];
            CommandLine line = new CommandLine(command.get());
            line.parseArgs(required);
            ObjectiveOption given = objective(line);
            Transport byDefault = given.transport(line.getCommandSpec());
            if (line.getCommand() instanceof Clipart512Demo) { // the demo's own default: flow, predicting the clean latents
                assertEquals(Transport.Prediction.DATA, byDefault.prediction(), "clipart512-demo's default");
            } else {
                assertNull(byDefault, line.getCommandName() + ": the family's own objective by default");
            }

            line = new CommandLine(command.get());
            line.parseArgs(concat(required, "--objective", "flow", "--time-sampling", "logit-normal"));
            ObjectiveOption flow = objective(line);
            Transport t = flow.transport(line.getCommandSpec());
            assertEquals(Transport.Path.LINEAR, t.path());
            assertEquals(Transport.TimeSampling.LOGIT_NORMAL, t.time());

            CommandLine typo = new CommandLine(command.get());
            typo.parseArgs(concat(required, "--objective", "default", "--prediction", "score"));
            ObjectiveOption unasked = objective(typo);
            var e = assertThrows(CommandLine.ParameterException.class, () -> unasked.transport(typo.getCommandSpec()));
            assertTrue(e.getMessage().contains("need --objective flow"), e.getMessage());
        }
    }

    private static ObjectiveOption objective(CommandLine line) {
        return line.getMixins().values().stream().filter(ObjectiveOption.class::isInstance).map(ObjectiveOption.class::cast).findFirst().orElseThrow();
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void givenValuesWin() {
        boolean gpu = dev.dit4j.nn.Torch.cudaAvailable(); // a CUDA device is refused where libtorch has none
        TrainLatents latents = new TrainLatents();
        new CommandLine(latents).parseArgs("--model", "U-DiT-B", "--latents", "x", "--batch", "8", "--lr", "0.5", "--ema", "0.9",
                "--seed", "7", "--device", gpu ? "cuda:0" : "cpu", "--out", "runs/a");
        assertEquals(8, latents.batchOption.batch());
        assertEquals(0.5, latents.lrOption.lr(2e-4));
        assertEquals(0.9, latents.emaOption.decay());
        assertEquals(7, latents.seedOption.seed());
        assertEquals(gpu ? Device.cuda(0) : Device.CPU, latents.deviceOption.device());
        assertEquals(Path.of("runs/a"), latents.outOption.dir());

        TrainDiT dit = new TrainDiT();
        new CommandLine(dit).parseArgs("--out", "mine");
        assertEquals(Path.of("mine"), dit.outOption.dir(() -> Path.of("derived")));
    }

    @Test
    void helpShowsEachCommandsDefaultAndWording() {
        String dit = new CommandLine(new TrainDiT()).getUsageMessage();
        assertTrue(dit.contains("batch size (default 64)"), dit);
        assertTrue(dit.contains("AdamW learning rate (default 0.001)"), dit);
        assertTrue(dit.contains("EMA decay (default 0.995; DiT's 0.9999 suits long"), dit);
        assertTrue(dit.contains("output directory (default out/<model>-fashion)"), dit);
        assertTrue(dit.contains("--resume=<resume>     resume from this checkpoint"), dit);

        String latents = new CommandLine(new TrainLatents()).getUsageMessage();
        assertTrue(latents.contains("batch size (default 256)"), latents);
        assertTrue(latents.contains("AdamW learning rate (default: the family's)"), latents);
        assertTrue(latents.contains("EMA decay (default 0.9999)"), latents);
        assertTrue(latents.contains("output directory (default out/latents)"), latents);
        assertTrue(latents.contains("--seed=<seed>         seed (default 0)"), latents);

        assertTrue(new CommandLine(new MlpDemo()).getUsageMessage().contains("Adam learning rate (default 0.01)"));
        assertTrue(new CommandLine(new TrainVae()).getUsageMessage().contains("AdamW learning rate (default 1.0E-4)"));
        String t2i = new CommandLine(new T2iDemo()).getUsageMessage();
        assertTrue(t2i.contains("batch size (default 64)") && t2i.contains("learning rate (default 0.001)"), t2i);
        for (Object command : new Object[] {new Flops(), new Parity(), new MlpDemo(), new TrainDiT(), new TrainLatents()}) {
            String help = new CommandLine(command).getUsageMessage();
            assertTrue(help.contains("--device=<device>") && help.contains("cpu or cuda:N (default cpu)"), help);
        }
    }

    @Test
    void aBadDeviceIsAUsageErrorNamingTheValue() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new MlpDemo());
        cli.setErr(new PrintWriter(err));
        assertEquals(2, cli.execute("--device", "gpu"), "picocli's exit code for a bad command line");
        assertTrue(err.toString().contains("Invalid value for option '--device': unknown device 'gpu': expected cpu, cuda or cuda:N"), err.toString());

        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class,
                () -> new CommandLine(new TrainLatents()).parseArgs("--model", "DiT-S/8", "--latents", "x", "--device", "cuda:one"));
        assertTrue(e.getMessage().contains("'cuda:one'"), e.getMessage());
    }

    @Test
    void aRecipeDefaultLearningRateHasNoValueOfItsOwn() {
        LrOption lr = LrOption.recipeDefault();
        assertEquals(1e-4, lr.lr(1e-4));
        assertThrows(IllegalStateException.class, lr::lr);
    }
}
