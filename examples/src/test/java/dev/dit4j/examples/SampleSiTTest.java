package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sample --model SiT-S/2 --mode ode|sde} on a small SiT written by SiT's models.py against
 * SiT's sample.py chains from the same seed (models/src/test/python/make_sit_fixtures.py; the
 * models module's test resources).
 */
class SampleSiTTest {
    private static final Path RESOURCES = Path.of("..", "models", "src", "test", "resources");

    @TempDir
    Path dir;

    private double chain(String name, String... options) throws Exception {
        Path latents = dir.resolve(name + ".safetensors");
        String[] base = {"--model", "SiT-S/2", "--weights", RESOURCES.resolve("checkpoints/sit_small.pt").toString(), "--labels", "3,7,0,9",
                "--batch", "4", "--latents-out", latents.toString(), "--out", dir.resolve(name).toString()};
        String[] args = new String[base.length + options.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(options, 0, args, base.length, options.length);
        assertEquals(0, new CommandLine(new Sample()).execute(args));
        try (Safetensors.Contents got = Safetensors.read(latents);
             Safetensors.Contents ref = Safetensors.read(RESOURCES.resolve("fixtures/sit_transport.safetensors")); TensorScope s = TensorScope.open()) {
            Tensor a = got.tensors().get("latents").to(DType.FLOAT64), b = ref.tensors().get("chain_" + name).to(DType.FLOAT64);
            return a.sub(b).norm(2, null, false).item() / b.norm(2, null, false).item();
        }
    }

    @Test
    void reproducesSiTsSamplePy() throws Exception {
        long live = Torch.liveTensors();
        assertTrue(Files.exists(RESOURCES.resolve("checkpoints/sit_small.pt")), "the models module's SiT fixtures");
        double sde = chain("sde_euler", "--mode", "sde", "--sampling-method", "Euler", "--steps", "20", "--cfg", "4", "--seed", "4");
        double ode = chain("ode_dopri5", "--mode", "ode", "--sampling-method", "dopri5", "--atol", "1e-6", "--rtol", "1e-3", "--steps", "8", "--cfg", "4", "--seed", "3");
        double heun = chain("sde_heun", "--sampler", "sde", "--sampling-method", "heun", "--steps", "14", "--cfg", "4", "--seed", "5");
        System.out.printf("sample SiT-S/2: sde euler %.2e, ode dopri5 %.2e, sde heun %.2e relative L2%n", sde, ode, heun);
        assertTrue(sde < 1e-4 && heun < 1e-4, "SDE chains: " + sde + ", " + heun);
        assertTrue(ode < 1e-3, "dopri5: " + ode);
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void refusesTransportSettingsForOtherSamplers() {
        int code = new CommandLine(new Sample()).execute("--model", "SiT-S/2", "--weights", RESOURCES.resolve("checkpoints/sit_small.pt").toString(),
                "--sampler", "ddpm", "--out", dir.toString(), "--labels", "1");
        assertNotEquals(0, code, "a SiT model samples with ode or sde only");
        code = new CommandLine(new Sample()).execute("--model", "SiT-S/2", "--weights", RESOURCES.resolve("checkpoints/sit_small.pt").toString(),
                "--mode", "sde", "--sampler", "ode", "--out", dir.toString(), "--labels", "1");
        assertNotEquals(0, code, "--mode and --sampler disagree");
    }
}
