package dev.dit4j.models.train;

import dev.dit4j.models.Conditioning;
import dev.dit4j.nn.CudaGraph;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link DiffusionTrainer}'s step captured once in a {@link CudaGraph} and replayed for each
 * batch: forward, loss, backward, clipping, AdamW and the EMA update launch as one graph, so a
 * step costs no host work per kernel (PyTorch's whole-network capture, {@code torch.cuda.graph}).
 *
 * <pre>{@code
 * try (GraphedTrainStep step = trainer.graphed(x0, labels)) {   // trains WARMUPS eager steps on this batch
 *     for (Batch b : batches) step.run(b.x(), b.labels()).close();
 * }
 * }</pre>
 *
 * <p>Fixed at capture: the batch's shapes, dtype and device (each batch is copied into the
 * tensors the graph reads), the learning rate (a changed rate is refused: capture again) and the
 * EMA decay (so the EMA must have started). The trainer's generator is registered with the graph:
 * timesteps, noise and label dropout are drawn afresh at every replay, though not the numbers an
 * eager run with the same seed draws. Not for data-parallel training, whose gradients the host
 * reduces. The warm-up steps run eagerly on the capture's side stream and count as steps.
 */
public final class GraphedTrainStep implements AutoCloseable {
    /** Eager steps before the capture: they create the optimizer's state and the libraries' handles outside it. */
    public static final int WARMUPS = 2;

    private final DiffusionTrainer<?> trainer;
    private final Tensor x0;
    private final Tensor labels; // null for unconditional training
    private final int numClasses;
    private final double learningRate;
    private final CudaGraph graph;

    GraphedTrainStep(DiffusionTrainer<?> trainer, Tensor x, Conditioning c) {
        this.trainer = trainer;
        if (!x.device().equals(trainer.device())) throw new IllegalArgumentException("the batch is on " + x.device() + ", the trainer on " + trainer.device());
        if (x.size(0) != c.batchSize()) throw new IllegalArgumentException("batch of " + x.size(0) + " inputs but " + c.batchSize() + " conditionings");
        try (TensorScope s = TensorScope.open()) {
            Conditioning fixed;
            if (c instanceof Conditioning.Labels l) {
                labels = TensorScope.release(l.labels().clone());
                numClasses = l.numClasses();
                fixed = Conditioning.labels(labels, numClasses);
            } else if (c instanceof Conditioning.None) {
                labels = null;
                numClasses = 0;
                fixed = c;
            } else {
                throw new IllegalArgumentException("a captured step takes labels or no conditioning, not " + c.getClass().getSimpleName());
            }
            x0 = TensorScope.release(x.clone());
            learningRate = trainer.learningRate();
            double decay = trainer.options().emaDecay();
            try {
                graph = CudaGraph.capture(trainer.device(), WARMUPS, List.of(trainer.generator()), () -> trainer.update(x0, fixed, decay));
            } catch (RuntimeException | Error e) {
                x0.close();
                if (labels != null) labels.close();
                throw e;
            }
            for (int i = 0; i < WARMUPS; i++) trainer.stepTaken();
        }
    }

    /** One training step on {@code x} and {@code c} (the capture's shapes); returns the mean loss, on the device, owned by the caller. */
    public Tensor run(Tensor x, Conditioning c) {
        if (trainer.learningRate() != learningRate) {
            throw new IllegalStateException("the learning rate is " + trainer.learningRate() + ", the step was captured with " + learningRate
                    + ": a captured step keeps its rate; capture again to change it");
        }
        if (!Arrays.equals(x.shape(), x0.shape()) || x.dtype() != x0.dtype()) {
            throw new IllegalArgumentException("batch " + x.dtype() + " " + Arrays.toString(x.shape()) + " is not the captured "
                    + x0.dtype() + " " + Arrays.toString(x0.shape()));
        }
        x0.copy_(x);
        if (labels != null) {
            if (!(c instanceof Conditioning.Labels l) || l.labels().size(0) != labels.size(0)) {
                throw new IllegalArgumentException("the step was captured with " + labels.size(0) + " labels; got " + c.getClass().getSimpleName()
                        + " conditioning of " + c.batchSize());
            }
            if (l.numClasses() != numClasses) throw new IllegalArgumentException(l.numClasses() + " classes, captured with " + numClasses);
            labels.copy_(l.labels());
        } else if (!(c instanceof Conditioning.None)) {
            throw new IllegalArgumentException("the step was captured without conditioning; got " + c.getClass().getSimpleName());
        }
        graph.replay();
        trainer.stepTaken();
        return graph.output().clone();
    }

    @Override
    public void close() {
        graph.close();
        x0.close();
        if (labels != null) labels.close();
    }
}
