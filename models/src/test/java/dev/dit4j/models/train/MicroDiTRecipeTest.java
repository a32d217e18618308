package dev.dit4j.models.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.Weights;
import dev.dit4j.models.embed.Embeddings;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** MicroDiT's training recipe: the authors' four stages, their learning-rate schedules, an EMA that starts at a step. */
class MicroDiTRecipeTest {
    /**
     * The authors' configs/res_{256,512}_{pretrain,finetune}.yaml, written out by hand: stage,
     * image_size, pos_interp_scale, train_mask_ratio, p_mean, p_std, optimizer lr, scheduler
     * t_warmup, max_duration, clip_norm, EMA smoothing and ema_start (none: -1), train_batch_size,
     * weight_decay, cap_drop_prob.
     */
    private static final double[][] AUTHORS = {
        {1, 256, 1, 0.75, -0.6, 1.2, 2.4e-4, 2500, 250_000, 0.25, 0, -1, 2048, 0.1, 0.1},
        {2, 256, 1, 0.0, -0.6, 1.2, 8e-5, 0, 280_000, 0.25, 0, -1, 2048, 0.1, 0.1},
        {3, 512, 2, 0.75, 0, 0.6, 8e-5, 500, 50_000, 0.5, 0.99975, 25_000, 2048, 0.1, 0.1},
        {4, 512, 2, 0.0, 0, 0.6, 8e-5, 0, 55_000, 0.5, 0.9975, 1_000, 2048, 0.1, 0.1},
    };

    @Test
    void stagesHoldTheAuthorsSettings() {
        assertEquals(List.of(1, 2, 3, 4), MicroDiTStage.ALL.stream().map(MicroDiTStage::number).toList());
        for (double[] a : AUTHORS) {
            MicroDiTStage s = MicroDiTStage.of(Integer.toString((int) a[0]));
            String n = "stage " + s.number();
            assertEquals((int) a[1], s.imageSize(), n);
            assertEquals((int) a[1] / 8, s.latentSize(), n);
            assertEquals(a[2], s.posInterpScale(), n);
            assertEquals(a[3], s.maskRatio(), n);
            assertEquals(a[4], s.pMean(), n);
            assertEquals(a[5], s.pStd(), n);
            assertEquals(a[6], s.lr(), n);
            assertEquals((long) a[7], s.warmup(), n);
            assertEquals((long) a[8], s.steps(), n);
            assertEquals(a[9], s.gradClip(), n);
            assertEquals((long) a[11], s.emaStart(), n);
            if (s.emaStart() >= 0) assertEquals(a[10], s.emaDecay(), n);
            assertEquals((int) a[12], s.batch(), n);
            assertEquals(a[13], s.weightDecay(), n);
            assertEquals(a[14], s.captionDropout(), n);
            DiffusionTrainer.Options o = s.options();
            assertEquals(a[6], o.lr(), n);
            assertEquals(a[13], o.weightDecay(), n);
            assertEquals(0.9, o.beta1(), n);
            assertEquals(0.999, o.beta2(), n);
            assertEquals(a[9], o.gradClip(), n);
            assertEquals(a[14], o.conditionDropout(), n);
            assertEquals(s.emaStart() < 0 ? 0 : a[10], o.emaDecay(), n + ": no EMA is an EMA of decay 0, the weights themselves");
            assertEquals(Math.max(0, (long) a[11]), o.emaStart(), n);
            assertEquals(0.9, s.edm().sigmaData(), n);
        }
        assertSame(MicroDiTStage.PRETRAIN_512, MicroDiTStage.of("microdit-3"));
        assertTrue(MicroDiTStage.PRETRAIN_512.recomputesPositions());
        assertTrue(MicroDiTStage.FINETUNE_256.continuesPreviousRun() && MicroDiTStage.FINETUNE_512.continuesPreviousRun());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MicroDiTStage.of("5"));
        assertTrue(e.getMessage().contains("expected 1, 2, 3 or 4"), e.getMessage());
    }

    @Test
    void learningRatesAtKeySteps() {
        LrSchedule s1 = MicroDiTStage.PRETRAIN_256.schedule();
        assertEquals(0, s1.at(0), "composer's warm-up starts at 0");
        assertEquals(1.2e-4, s1.at(1250), 1e-12);
        assertEquals(2.4e-4, s1.at(2500), 1e-12, "peak at the end of warm-up");
        assertEquals(2.4e-4 * (0.33 + 0.67 * 0.5), s1.at(2500 + (250_000 - 2500) / 2), 1e-12, "half-way down the cosine");
        assertEquals(2.4e-4 * 0.33, s1.at(250_000), 1e-12, "the floor, 0.33x, at the end");
        assertEquals(2.4e-4 * 0.33, s1.at(300_000), 1e-12, "and after it");
        LrSchedule s2 = MicroDiTStage.FINETUNE_256.schedule();
        assertEquals(8e-5, s2.at(250_000), 0);
        assertEquals(8e-5, s2.at(0), 0);
        LrSchedule s3 = MicroDiTStage.PRETRAIN_512.schedule();
        assertEquals(0, s3.at(0));
        assertEquals(4e-5, s3.at(250), 1e-15);
        assertEquals(8e-5, s3.at(500), 0);
        assertEquals(8e-5, s3.at(40_000), 0);
        LrSchedule short1 = MicroDiTStage.PRETRAIN_256.schedule(1e-3, 2, 6);
        double q = (1 + Math.cos(Math.PI / 4)) / 2; // tau = 1/4 and 3/4 of the cosine give q and 1 - q of the way down
        assertArrayEquals(new double[] {0, 5e-4, 1e-3, 1e-3 * (0.33 + 0.67 * q), 1e-3 * (0.33 + 0.67 * 0.5), 1e-3 * (0.33 + 0.67 * (1 - q)), 1e-3 * 0.33},
                java.util.stream.LongStream.range(0, 7).mapToDouble(short1::at).toArray(), 1e-15, "a short run's cosine ends at its own length");
    }

    @Test
    void stageThreeLoadsLowResolutionWeightsWithThePositionTableRecomputed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        long live = Torch.liveTensors();
        MicroDiT.Config at256 = MicroDiT.TINY_2.with(b -> b.inputSize(8).dim(32).depth(2).headDim(16).multipleOf(32).captionChannels(16)
                .mixerDepth(2).mixerDim(32));
        MicroDiT.Config at512 = at256.withInputSize(16).withPosInterpScale(MicroDiTStage.PRETRAIN_512.posInterpScale());
        java.nio.file.Path file = dir.resolve("stage2.safetensors");
        try (TensorScope s = TensorScope.open(); MicroDiT low = at256.create(Device.CPU, 1); MicroDiT high = at512.create(Device.CPU, 2)) {
            dev.dit4j.nn.io.Safetensors.save(file, low.stateDict());
            StateDictMismatch e = assertThrows(StateDictMismatch.class, () -> Weights.load(high, file));
            assertTrue(e.getMessage().contains("pos_embed"), "the 16-token table does not fit 64 tokens: " + e.getMessage());
            Weights.load(high, file, Set.of("pos_embed"));
            var lowState = low.stateDict();
            high.stateDict().forEach((k, v) -> {
                if (!k.equals("pos_embed")) assertArrayEquals(lowState.get(k).toFloatArray(), v.toFloatArray(), 0, k);
            });
            assertArrayEquals(Embeddings.sincos2d(32, 8, 2.0).toFloatArray(), high.stateDict().get("pos_embed").toFloatArray(), 0,
                    "the 8x8 grid's table at pos_interp_scale 2, as the authors' stage 3 computes it");
        }
        assertEquals(live, Torch.liveTensors());
    }

    private static final DiT.Config TINY = new DiT.Config("tiny", 2, 32, 1, 2, 2.0, 1, 8, 4, false, 0.1);

    @Test
    void emaCopiesTheWeightsUntilItsStartStepThenDecays() {
        long live = Torch.liveTensors();
        DiffusionTrainer.Options options = DiffusionTrainer.Options.dit().withLr(1e-2).withEmaDecay(0.5).withEmaStart(2).withSeed(3);
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(4);
             DiT net = TINY.create(Device.CPU, 1); DiT ema = TINY.create(Device.CPU, 1);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(net, ema, new NoisePredictionObjective(dev.dit4j.models.diffusion.GaussianDiffusion.linearBetas(100)), options)) {
            Tensor x = Tensor.randn(new long[] {4, 1, 8, 8}, DType.FLOAT32, Device.CPU, g);
            Conditioning c = Conditioning.labels(Tensor.of(new long[] {0, 1, 2, 3}, 4), 4);
            String key = "final_layer.linear.weight";
            for (int step = 1; step <= 4; step++) {
                float[] previousEma = ema.stateDict().get(key).toFloatArray();
                trainer.trainStep(x, c);
                float[] weights = net.stateDict().get(key).toFloatArray(), averaged = ema.stateDict().get(key).toFloatArray();
                if (step <= 2) {
                    assertArrayEquals(weights, averaged, 0, "step " + step + ": before the start the EMA is the weights");
                } else {
                    float[] expected = new float[weights.length];
                    for (int i = 0; i < weights.length; i++) expected[i] = 0.5f * previousEma[i] + 0.5f * weights[i];
                    assertArrayEquals(expected, averaged, 1e-7f, "step " + step + ": decay 0.5 from the start on");
                    assertFalse(java.util.Arrays.equals(weights, averaged), "step " + step + ": the EMA now lags the weights");
                }
            }
        }
        assertEquals(live, Torch.liveTensors());
        assertThrows(IllegalArgumentException.class, () -> DiffusionTrainer.Options.dit().withEmaStart(-1));
    }
}
