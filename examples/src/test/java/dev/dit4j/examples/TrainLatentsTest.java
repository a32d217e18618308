package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrainLatentsTest {
    @TempDir
    Path dir;

    private void writeLatents(long channels, long side) {
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(1)) {
            LatentFiles.write(dir.resolve("latents.safetensors"), Tensor.randn(new long[] {8, channels, side, side}, DType.FLOAT32, Device.CPU, g),
                    Tensor.randint(0, 10, new long[] {8}, Device.CPU, g), Map.of());
        }
    }

    private int run(String... extra) {
        String[] base = {"--latents", dir.resolve("latents.safetensors").toString(), "--classes", "10", "--batch", "4",
                "--log-every", "1", "--out", dir.resolve("out").toString()};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return new CommandLine(new TrainLatents()).execute(all);
    }

    private long savedStep() {
        try (Safetensors.Contents c = Safetensors.read(dir.resolve("out/checkpoint.safetensors"))) {
            return Long.parseLong(c.metadata().get("step"));
        }
    }

    @Test
    void trainsAPresetOnLatentFilesAndResumes() {
        long live = Torch.liveTensors();
        writeLatents(4, 8);
        assertEquals(0, run("--model", "DiT-S/8", "--depth", "1", "--steps", "3"));
        assertEquals(3, savedStep());
        assertEquals(0, run("--model", "DiT-S/8", "--depth", "1", "--steps", "5", "--resume", dir.resolve("out/checkpoint.safetensors").toString()));
        assertEquals(5, savedStep(), "resumed from step 3 and stopped at 5");
        assertEquals(0, run("--model", "cifar10_uvit_small", "--depth", "2", "--steps", "2"), "U-ViT takes the same latents");
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void latentsThatDoNotFitThePresetAreRefused() {
        writeLatents(4, 12);
        TrainLatents cmd = new TrainLatents();
        new CommandLine(cmd).parseArgs("--model", "DiT-S/8", "--latents", dir.resolve("latents.safetensors").toString(), "--steps", "1",
                "--out", dir.resolve("out").toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cmd::call);
        assertTrue(e.getMessage().contains("12") && e.getMessage().contains("8"), e.getMessage());
    }
}
