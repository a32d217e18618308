package dev.dit4j.models.dist;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * Noise-prediction MSE whose "noise" and timestep are functions of each sample: no randomness, so
 * one process on a batch of 16 and two ranks on its halves see exactly the same problem, and the
 * comparison isolates the data-parallel mechanics (broadcast, sharding, gradient averaging).
 */
final class FixedNoiseObjective implements TrainingObjective {
    @Override
    public Tensor losses(Denoiser net, Tensor x0, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            Tensor noise = x0.mul(3.1).add(0.7).sin();
            Tensor xt = x0.mul(0.6).add(noise.mul(0.8));
            Tensor t = Tensor.full(500, new long[] {x0.size(0)}, DType.FLOAT32, x0.device());
            return s.keep(GaussianDiffusion.meanFlat(net.apply(xt, t).sub(noise).square()));
        }
    }

    @Override
    public void close() {}
}
