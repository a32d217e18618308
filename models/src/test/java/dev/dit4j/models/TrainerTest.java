package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.sampling.GaussianSampler;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    private static final DiT.Config TINY = new DiT.Config("tiny", 2, 64, 4, 4, 4.0, 1, 16, 10, true, 0.1);
    private static final DiffusionTrainer.Options OPTIONS = DiffusionTrainer.Options.dit().withLr(1e-3).withEmaDecay(0.9)
            .withGradClip(1.0).withSeed(5);

    @TempDir
    Path dir;

    private static Tensor[] batch() {
        try (Generator g = Generator.cpu(42)) {
            Tensor x = Tensor.rand(new long[] {8, 1, 16, 16}, DType.FLOAT32, Device.CPU, g).mul_(2).add_(-1);
            Tensor y = Tensor.randint(0, 10, new long[] {8}, Device.CPU, g);
            return new Tensor[] {TensorScope.release(x), TensorScope.release(y)};
        }
    }

    private static List<Double> train(DiffusionTrainer<?> trainer, Tensor[] b, int steps) {
        List<Double> losses = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            try (Tensor loss = trainer.trainStep(b[0], Conditioning.labels(b[1], 10))) {
                losses.add(loss.item());
            }
        }
        return losses;
    }

    @Test
    void resumingFromACheckpointContinuesExactly() {
        long live = Torch.liveTensors();
        Tensor[] b = batch();
        List<Double> straight;
        float[] straightEma;
        try (DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> t = new DiffusionTrainer<>(m, e, OPTIONS)) {
            straight = train(t, b, 6);
            straightEma = e.stateDict().get("final_layer.linear.weight").toFloatArray();
        }
        Path ckpt = dir.resolve("ckpt.safetensors");
        List<Double> resumed = new ArrayList<>();
        try (DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> t = new DiffusionTrainer<>(m, e, OPTIONS)) {
            resumed.addAll(train(t, b, 3));
            t.save(ckpt, Map.of("note", "test"));
        }
        try (DiT m = TINY.create(Device.CPU, 77); DiT e = TINY.create(Device.CPU, 78);
             DiffusionTrainer<DiT> t = new DiffusionTrainer<>(m, e, OPTIONS.withSeed(999))) {
            Map<String, String> meta = t.load(ckpt);
            assertEquals("3", meta.get("step"));
            assertEquals(3, t.step());
            resumed.addAll(train(t, b, 3));
            assertArrayEquals(straightEma, e.stateDict().get("final_layer.linear.weight").toFloatArray(), "EMA weights after resume");
        }
        assertEquals(straight, resumed, "losses after resuming equal those of the uninterrupted run");
        b[0].close();
        b[1].close();
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void aCheckpointWithABadStepNamesTheFileAndTheField() {
        long live = Torch.liveTensors();
        Path ckpt = dir.resolve("bad-step.safetensors");
        try (DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> t = new DiffusionTrainer<>(m, e, OPTIONS)) {
            t.save(ckpt, Map.of());
            try (Safetensors.Contents c = Safetensors.read(ckpt)) {
                Map<String, String> meta = new LinkedHashMap<>(c.metadata());
                meta.put("step", "abc");
                Safetensors.save(ckpt, c.tensors(), meta);
            }
            CheckpointException x = assertThrows(CheckpointException.class, () -> t.load(ckpt));
            assertTrue(x.getMessage().contains(ckpt.toString()) && x.getMessage().contains("'step'")
                    && x.getMessage().contains("'abc'"), x.getMessage());
            assertEquals(0, t.step(), "nothing restored");
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void trainingReducesTheLossOnAFixedBatch() {
        Tensor[] b = batch();
        try (DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> t = new DiffusionTrainer<>(m, e, OPTIONS)) {
            List<Double> losses = train(t, b, 60);
            double first = losses.subList(0, 10).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double last = losses.subList(50, 60).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);
        } finally {
            b[0].close();
            b[1].close();
        }
    }

    @Test
    void aCapturedStepIsRefusedWhereNoGraphCanRunIt() {
        long live = Torch.liveTensors();
        Tensor[] b = batch();
        try (DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> t = new DiffusionTrainer<>(m, e, OPTIONS); DiffusionTrainer<DiT> late = new DiffusionTrainer<>(m, e, OPTIONS.withEmaStart(10))) {
            IllegalArgumentException cpu = assertThrows(IllegalArgumentException.class, () -> t.graphed(b[0], Conditioning.labels(b[1], 10)));
            assertTrue(cpu.getMessage().contains("CUDA graphs capture CUDA work"), cpu.getMessage());
            assertEquals(0, t.step(), "nothing was trained");
            IllegalArgumentException ema = assertThrows(IllegalArgumentException.class, () -> late.graphed(b[0], Conditioning.labels(b[1], 10)));
            assertTrue(ema.getMessage().contains("EMA starts after step 10"), ema.getMessage());
        } finally {
            b[0].close();
            b[1].close();
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void samplersAreSeededAndShapePreserving() {
        long live = Torch.liveTensors();
        try (DiT model = TINY.create(Device.CPU, 3); TensorScope s = TensorScope.open()) {
            model.eval();
            Tensor y = Tensor.of(new long[] {1, 2}, 2);
            for (GaussianSampler sampler : List.of(GaussianSampler.ddim(5, 0), GaussianSampler.ddpm(8))) {
                Tensor[] runs = new Tensor[2];
                for (int r = 0; r < 2; r++) {
                    try (Generator g = Generator.cpu(9)) {
                        Tensor noise = Tensor.randn(new long[] {2, 1, 16, 16}, DType.FLOAT32, Device.CPU, g);
                        runs[r] = sampler.sample((x, t) -> model.forward(x, t, y), noise, g);
                    }
                }
                assertArrayEquals(new long[] {2, 1, 16, 16}, runs[0].shape());
                assertTrue(runs[0].allclose(runs[1], 0, 0), "same seed, same samples");
                assertTrue(runs[0].isfinite().logicalNot().sum().item() == 0);
                sampler.close();
            }
        }
        assertEquals(live, Torch.liveTensors());
    }
}
