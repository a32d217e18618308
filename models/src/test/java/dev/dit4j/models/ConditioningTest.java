package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.NoisePredictionObjective;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Conditioning values, their null forms and dropout; guidance and training for class and text models alike. */
class ConditioningTest {
    private static final UViT.Config TEXT = UViT.MSCOCO_S_2.withDepth(2).withWidth(64, 4).withImgSize(8).withContext(16, 5);
    private static final UViT.Config CLASS = TEXT.withClasses(10, true).withLabelDropout(0.1);
    private static final DiT.Config DIT = DiT.S_8.with(b -> b.depth(2).hidden(64).heads(4).inputSize(16).numClasses(10).inChannels(1));

    private long live;
    private TensorScope scope;

    @BeforeEach
    void open() {
        live = Torch.liveTensors();
        scope = TensorScope.open();
    }

    @AfterEach
    void noLeaks() {
        scope.close();
        assertEquals(live, Torch.liveTensors(), "native tensors leaked");
    }

    private static Tensor randn(Generator g, long... shape) {
        return Tensor.randn(shape, DType.FLOAT32, Device.CPU, g);
    }

    @Test
    void labelsHaveTheNullLabelAsTheirNullForm() {
        Conditioning.Labels y = Conditioning.labels(Tensor.of(new long[] {0, 3, 9}, 3), 10);
        assertArrayEquals(new long[] {10, 10, 10}, y.unconditional().labels().toLongArray());
        assertArrayEquals(new long[] {0, 3, 9, 10, 10, 10}, y.concat(y.unconditional()).labels().toLongArray());
        try (Generator g = Generator.cpu(1)) {
            assertArrayEquals(new long[] {10, 10, 10}, y.dropped(1.0 - 1e-9, g).labels().toLongArray());
            assertArrayEquals(new long[] {0, 3, 9}, y.dropped(0, g).labels().toLongArray());
        }
        assertThrows(IllegalArgumentException.class, () -> Conditioning.labels(Tensor.zeros(3), 10), "float labels");
        assertThrows(IllegalArgumentException.class, () -> y.concat(Conditioning.none(3)));
    }

    @Test
    void textHasTheEmptyCaptionOrZerosAsItsNullForm() {
        try (Generator g = Generator.cpu(2)) {
            Tensor tokens = randn(g, 4, 5, 16);
            Tensor empty = randn(g, 5, 16);
            Conditioning.Text text = Conditioning.text(tokens, empty);
            Tensor nulls = text.unconditional().tokens();
            for (int i = 0; i < 4; i++) assertTrue(nulls.select(0, i).allclose(empty, 0, 0), "sample " + i);
            assertEquals(0.0, Conditioning.text(tokens).unconditional().tokens().abs().max().item(), "zeros without an encoding");
            Conditioning.Text dropped = text.dropped(0.5, g);
            int replaced = 0;
            for (int i = 0; i < 4; i++) {
                boolean isEmpty = dropped.tokens().select(0, i).allclose(empty, 0, 0);
                boolean isOwn = dropped.tokens().select(0, i).allclose(tokens.select(0, i), 0, 0);
                assertTrue(isEmpty ^ isOwn, "each sample is either its own caption or the empty one");
                if (isEmpty) replaced++;
            }
            assertTrue(replaced > 0 && replaced < 4, "p = 0.5 over 4 samples with this seed drops some: " + replaced);
            assertThrows(IllegalArgumentException.class, () -> Conditioning.text(tokens, randn(g, 4, 16)), "empty caption of the wrong size");
        }
    }

    @Test
    void guidanceIsEachAuthorsFormAndTheDoubledFormAgrees() {
        try (Generator g = Generator.cpu(3); var noGrad = Autograd.noGrad()) {
            Tensor t = Tensor.of(new float[] {20, 700}, 2);
            Tensor tt = Tensor.cat(List.of(t, t), 0);
            try (DiT dit = DIT.create(Device.CPU, 1)) {
                dit.eval();
                randomise(dit, g);
                Tensor x = randn(g, 2, 1, 16, 16);
                Tensor y = Tensor.of(new long[] {4, 7}, 2);
                Tensor both = Tensor.cat(List.of(y, Tensor.of(new long[] {10, 10}, 2)), 0);
                Tensor out = dit.forward(Tensor.cat(List.of(x, x), 0), tt, both);
                // eps_u + 4 (eps_c - eps_u) on the epsilon channel (1 of 2 here), the variance the conditional one
                Tensor c = out.narrow(0, 0, 2), u = out.narrow(0, 2, 2);
                Tensor expected = Tensor.cat(List.of(u.narrow(1, 0, 1).add(c.narrow(1, 0, 1).sub(u.narrow(1, 0, 1)).mul(4.0)), c.narrow(1, 1, 1)), 1);
                Guided guided = dit.guided(Conditioning.labels(y, 10), 4.0);
                assertTrue(guided.apply(x, t).allclose(expected, 1e-5, 1e-6));
                // the authors' doubled form: its first half is the same numbers, bit for bit
                assertTrue(guided.doubled().apply(Tensor.cat(List.of(x, x), 0), tt).narrow(0, 0, 2).allclose(guided.apply(x, t), 0, 0));
            }
            try (UViT uvit = CLASS.create(Device.CPU, 1)) {
                uvit.eval();
                Tensor x = randn(g, 2, 4, 8, 8);
                Tensor y = Tensor.of(new long[] {4, 7}, 2);
                Tensor out = uvit.forward(Tensor.cat(List.of(x, x), 0), tt, Tensor.cat(List.of(y, Tensor.of(new long[] {10, 10}, 2)), 0));
                // U-ViT writes eps_c + s (eps_c - eps_u): the same rule with s = w - 1
                Tensor c = out.narrow(0, 0, 2), u = out.narrow(0, 2, 2);
                assertTrue(uvit.guided(Conditioning.labels(y, 10), 4.0).apply(x, t).allclose(c.add(c.sub(u).mul(3.0)), 1e-5, 1e-6));
            }
            try (UViT uvit = TEXT.create(Device.CPU, 1)) {
                uvit.eval();
                Tensor x = randn(g, 2, 4, 8, 8);
                Tensor context = randn(g, 2, 5, 16);
                Tensor empty = randn(g, 5, 16);
                Tensor c = uvit.forward(x, t, Conditioning.text(context));
                Tensor u = uvit.forward(x, t, Conditioning.text(empty.unsqueeze(0).expand(2, 5, 16).contiguous()));
                assertTrue(uvit.guided(Conditioning.text(context, empty), 4.0).apply(x, t).allclose(c.add(c.sub(u).mul(3.0)), 1e-5, 1e-6));
            }
        }
    }

    /** Non-zero weights everywhere, so that guidance has something to mix (adaLN-Zero starts at zero). */
    private static void randomise(DiffusionModel<?> model, Generator g) {
        for (Tensor p : model.parameters()) p.normal_(0, 0.05, g);
    }

    @Test
    void aTextModelTrainsAndSamplesThroughTheSameTrainerAndSamplers() {
        try (UViT model = TEXT.create(Device.CPU, 1); UViT ema = TEXT.create(Device.CPU, 1);
             DiffusionTrainer<UViT> trainer = new DiffusionTrainer<>(model, ema, NoisePredictionObjective.uvit(),
                     DiffusionTrainer.Options.uvit().withLr(2e-3).withEmaDecay(0.5).withSeed(1).withConditionDropout(0.1));
             Generator g = Generator.cpu(4)) {
            Tensor x0 = randn(g, 8, 4, 8, 8).mul(0.5);
            Conditioning.Text captions = Conditioning.text(randn(g, 8, 5, 16), randn(g, 5, 16));
            List<Double> losses = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                try (Tensor loss = trainer.trainStep(x0, captions)) {
                    losses.add(loss.item());
                }
            }
            double first = losses.subList(0, 10).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double last = losses.subList(70, 80).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            assertTrue(last < 0.8 * first, "loss " + first + " -> " + last);

            ema.eval();
            Conditioning.Text prompts = Conditioning.text(captions.tokens().narrow(0, 0, 2), captions.emptyCaption());
            try (Sampler sampler = DpmSolverPP.forUViT(10)) {
                Tensor samples = sampler.sample(ema.guided(prompts, 3.0), randn(g, 2, 4, 8, 8), g);
                assertArrayEquals(new long[] {2, 4, 8, 8}, samples.shape());
                assertEquals(0, samples.isfinite().logicalNot().sum().item());
            }
            assertThrows(IllegalArgumentException.class, () -> trainer.trainStep(x0, Conditioning.labels(Tensor.zeros(new long[] {8}, DType.INT64, Device.CPU), 10)),
                    "a text model refuses labels");
        }
    }
}
