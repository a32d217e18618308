package dev.dit4j.models.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.models.vae.AutoencoderTrainer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingLoopTest {
    private static final DiT.Config TINY = new DiT.Config("tiny", 2, 32, 2, 4, 2.0, 1, 8, 10, true, 0.1);
    private static final DiffusionTrainer.Options OPTIONS = DiffusionTrainer.Options.dit().withLr(1e-3).withEmaDecay(0.9).withGradClip(1.0).withSeed(5);

    @TempDir
    Path dir;

    /** 20 images 1x8x8 in [-1, 1] with labels: 5 batches of 4 an epoch, so a run of 7 steps crosses an epoch. */
    private static TensorDataset data() {
        try (Generator g = Generator.cpu(7)) {
            Tensor x = Tensor.rand(new long[] {20, 1, 8, 8}, DType.FLOAT32, Device.CPU, g).mul_(2).add_(-1);
            Tensor y = Tensor.randint(0, 10, new long[] {20}, Device.CPU, g);
            return new TensorDataset(TensorScope.release(x), TensorScope.release(y), List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
        }
    }

    private static BatchLoader loader(TensorDataset data) {
        return BatchLoader.builder(data, 4).seed(3).randomFlip(true).build();
    }

    private static TrainingLoop.Step<BatchLoader.Batch> step(DiffusionTrainer<?> trainer) {
        return b -> trainer.trainStep(b.images(), Conditioning.labels(b.labels(), 10));
    }

    /** Every tensor of the model and its EMA, by name, as floats. */
    private static Map<String, float[]> weights(DiT model, DiT ema) {
        Map<String, float[]> w = new java.util.TreeMap<>();
        model.stateDict().forEach((k, v) -> w.put("model." + k, v.toFloatArray()));
        ema.stateDict().forEach((k, v) -> w.put("ema." + k, v.toFloatArray()));
        return w;
    }

    @Test
    void aStepBudgetStopsExactlyWithCheckpointsHooksAndReportsOnTime() {
        long live = Torch.liveTensors();
        Path ckpt = dir.resolve("ckpt.safetensors");
        List<Long> saved = new ArrayList<>(), hooked = new ArrayList<>(), reported = new ArrayList<>();
        TrainingLoop.Result result;
        try (TensorDataset data = data(); DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, OPTIONS); BatchLoader loader = loader(data)) {
            result = TrainingLoop.builder().steps(7).logEvery(2).logFinalStep().batchSize(4).checkpoint(ckpt, 3)
                    .listener(new TrainingLoop.Listener() {
                        @Override
                        public void progress(TrainingLoop.Progress p) {
                            reported.add(p.step());
                            assertTrue(Double.isFinite(p.loss()) && p.terms().length == 1 && p.loss() == p.terms()[0], "a scalar loss");
                            assertTrue(p.imagesPerSecond() > 0 && p.seconds() > 0);
                        }

                        @Override
                        public void saved(Path file, long step) {
                            assertEquals(ckpt, file);
                            saved.add(step);
                        }
                    })
                    .every(2, step -> {
                        assertEquals(step, trainer.step(), "the hook runs after its step");
                        hooked.add(step);
                    })
                    .build().run(trainer, loader, step(trainer));
            assertEquals(7, trainer.step());
        }
        assertEquals(7, result.step());
        assertEquals(7, result.stepsRun());
        assertEquals(List.of(3L, 6L, 7L), saved, "every 3 steps and at the end");
        assertEquals(List.of(2L, 4L, 6L), hooked);
        assertEquals(List.of(2L, 4L, 6L, 7L), reported, "every 2 steps and the last");
        assertEquals(reported, result.losses().stream().map(TrainingLoop.Loss::step).toList(), "the losses read back, kept");
        try (var c = Safetensors.index(ckpt)) {
            assertEquals("7", c.metadata().get("step"));
            assertEquals("3:1:8", c.metadata().get("loader"), "7 batches of 4 in epochs of 20: the second epoch, after its second batch");
        }
        assertEquals(live, Torch.liveTensors());
    }

    /** N steps in one run, or N/2, a checkpoint, and N/2 more in a run resumed from it (other seeds): the same weights, bit for bit. */
    @Test
    void aResumedRunContinuesExactlyAsAnUninterruptedOne() {
        long live = Torch.liveTensors();
        Map<String, float[]> straight;
        try (TensorDataset data = data(); DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, OPTIONS); BatchLoader loader = loader(data)) {
            TrainingLoop.builder().steps(8).build().run(trainer, loader, step(trainer));
            straight = weights(m, e);
        }
        Path ckpt = dir.resolve("half.safetensors");
        try (TensorDataset data = data(); DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, OPTIONS); BatchLoader loader = loader(data)) {
            TrainingLoop.Result first = TrainingLoop.builder().steps(4).checkpoint(ckpt).build().run(trainer, loader, step(trainer));
            assertEquals(4, first.step());
        }
        Map<String, float[]> resumed;
        try (TensorDataset data = data(); DiT m = TINY.create(Device.CPU, 77); DiT e = TINY.create(Device.CPU, 78);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, OPTIONS.withSeed(999));
             BatchLoader loader = BatchLoader.builder(data, 4).seed(123).randomFlip(true).build()) {
            TrainingLoop.Result second = TrainingLoop.builder().steps(8).resume(ckpt).build().run(trainer, loader, step(trainer));
            assertEquals(8, second.step());
            assertEquals(4, second.stepsRun(), "the step budget counts the resumed steps");
            resumed = weights(m, e);
        }
        assertEquals(straight.keySet(), resumed.keySet());
        straight.forEach((k, w) -> assertArrayEquals(w, resumed.get(k), k));
        assertEquals(live, Torch.liveTensors());
    }

    /**
     * A stop request (a SIGTERM) during step 4 of 8: step 4 finishes, the checkpoint is written at
     * step 4 as at a normal end, the result says stopped; resuming from it ends with the weights of
     * an uninterrupted run, bit for bit.
     */
    @Test
    void aStopRequestFinishesTheStepCheckpointsAndResumesExactly() {
        long live = Torch.liveTensors();
        Map<String, float[]> straight;
        try (TensorDataset data = data(); DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, OPTIONS); BatchLoader loader = loader(data)) {
            TrainingLoop.Result r = TrainingLoop.builder().steps(8).stopWhen(() -> false).build().run(trainer, loader, step(trainer));
            assertFalse(r.stopped());
            straight = weights(m, e);
        }
        Path ckpt = dir.resolve("stopped.safetensors");
        java.util.concurrent.atomic.AtomicBoolean signal = new java.util.concurrent.atomic.AtomicBoolean();
        List<Long> saved = new ArrayList<>();
        try (TensorDataset data = data(); DiT m = TINY.create(Device.CPU, 1); DiT e = TINY.create(Device.CPU, 2);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, OPTIONS); BatchLoader loader = loader(data)) {
            TrainingLoop.Step<BatchLoader.Batch> inner = step(trainer);
            TrainingLoop.Result first = TrainingLoop.builder().steps(8).minutes(60).checkpoint(ckpt, 100).stopWhen(signal::get)
                    .listener(new TrainingLoop.Listener() {
                        @Override
                        public void progress(TrainingLoop.Progress p) {}

                        @Override
                        public void saved(Path file, long step) {
                            saved.add(step);
                        }
                    })
                    .build().run(trainer, loader, b -> {
                        if (trainer.step() == 3) signal.set(true); // arrives while step 4 runs
                        return inner.apply(b);
                    });
            assertTrue(first.stopped());
            assertEquals(4, first.step(), "the step under way finishes, no more");
            assertEquals(List.of(4L), saved, "the checkpoint written at the stop");
        }
        try (var c = Safetensors.index(ckpt)) {
            assertEquals("4", c.metadata().get("step"));
        }
        Map<String, float[]> resumed;
        try (TensorDataset data = data(); DiT m = TINY.create(Device.CPU, 77); DiT e = TINY.create(Device.CPU, 78);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, OPTIONS); BatchLoader loader = loader(data)) {
            TrainingLoop.Result second = TrainingLoop.builder().steps(8).resume(ckpt).stopWhen(() -> false).build().run(trainer, loader, step(trainer));
            assertEquals(8, second.step());
            assertFalse(second.stopped());
            resumed = weights(m, e);
        }
        straight.forEach((k, w) -> assertArrayEquals(w, resumed.get(k), k));
        assertEquals(live, Torch.liveTensors());
    }

    /** A trainer that only counts steps, for the loop's own logic. */
    private static final class Counter implements Trainable {
        long step;

        @Override
        public long step() {
            return step;
        }

        @Override
        public void save(Path file, Map<String, String> metadata) {}

        @Override
        public Map<String, String> load(Path file) {
            return Map.of();
        }
    }

    @Test
    void aTimeBudgetStopsAtTheFirstStepBoundaryPastIt() {
        Counter counter = new Counter();
        List<Double> starts = new ArrayList<>();
        long t0 = System.nanoTime();
        double budget = 0.001 * 60; // 60 ms
        TrainingLoop.Result r = TrainingLoop.builder().minutes(0.001).logEvery(1000).build().run(counter, () -> "batch", b -> {
            starts.add((System.nanoTime() - t0) / 1e9);
            try {
                Thread.sleep(15);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            counter.step++;
            return null; // never read: no report falls due
        });
        assertTrue(r.stepsRun() >= 2 && r.stepsRun() == starts.size(), r.toString());
        assertTrue(r.seconds() >= budget, "it ran past the budget: " + r);
        assertTrue(starts.get(starts.size() - 1) < budget + 0.01, "the last step started within it: " + starts);
        assertTrue(Double.isNaN(r.imagesPerSecond()), "no batch size given");
    }

    @Test
    void misuseIsNamed() {
        assertThrows(IllegalStateException.class, () -> TrainingLoop.builder().build(), "no budget");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TrainingLoop.builder().steps(3).build().run(new Counter(), () -> "batch", b -> null));
        assertTrue(e.getMessage().contains("a step must take one optimisation step"), e.getMessage());
        assertEquals(0, TrainingLoop.builder().steps(0).build().run(new Counter(), () -> "batch", b -> null).stepsRun());
    }

    /** The autoencoder's trainer through the same loop, batches from a function: its three loss terms reported, its checkpoint resumable. */
    @Test
    void anAutoencoderTrainsOnMadeBatchesAndResumes() {
        long live = Torch.liveTensors();
        AutoencoderKL.Config tiny = AutoencoderKL.SD.withChannels(32).withChannelMult(List.of(1, 2)).withNumResBlocks(1);
        Path ckpt = dir.resolve("vae-ckpt.safetensors");
        List<double[]> terms = new ArrayList<>();
        Map<String, Tensor> after;
        try (AutoencoderKL vae = tiny.create(Device.CPU, 0); AutoencoderTrainer trainer = new AutoencoderTrainer(vae, AutoencoderTrainer.Options.defaults());
             Generator g = Generator.cpu(1)) {
            TrainingLoop.Result r = TrainingLoop.builder().steps(2).logEvery(1).checkpoint(ckpt).listener(p -> terms.add(p.terms())).build()
                    .run(trainer, () -> Tensor.rand(new long[] {2, 3, 16, 16}, DType.FLOAT32, Device.CPU, g).mul(2).sub(1), images -> trainer.trainStep(images, g));
            assertEquals(2, r.step());
            try (TensorScope s = TensorScope.open()) {
                after = new java.util.TreeMap<>();
                vae.stateDict().forEach((k, v) -> after.put(k, TensorScope.release(v.clone())));
            }
        }
        assertEquals(2, terms.size());
        for (double[] t : terms) {
            assertEquals(3, t.length, "total, L1, KL");
            assertTrue(t[0] > 0 && t[1] > 0 && t[2] > 0, java.util.Arrays.toString(t));
        }
        try (AutoencoderKL vae = tiny.create(Device.CPU, 5); AutoencoderTrainer trainer = new AutoencoderTrainer(vae, AutoencoderTrainer.Options.defaults())) {
            assertEquals("2", trainer.load(ckpt).get("step"));
            assertEquals(2, trainer.step());
            vae.stateDict().forEach((k, v) -> assertArrayEquals(after.get(k).toFloatArray(), v.toFloatArray(), k));
        }
        after.values().forEach(Tensor::close);
        assertEquals(live, Torch.liveTensors());
    }
}
