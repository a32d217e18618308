package dev.dit4j.models.flow;

import dev.dit4j.models.diffusion.GaussianDiffusion;
import dev.dit4j.models.sampling.Denoiser;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;

/**
 * SiT's training_losses: noise x0 ~ N(0, I) drawn first, then t on the training interval
 * (uniform, or SD3's logit-normal), x_t = alpha_t x1 + sigma_t x0 for data x1, the network run
 * on (x_t, t) with t in [0, 1] as its timestep. Velocity prediction: mean((v - u_t)^2) with
 * u_t = d alpha_t x1 + d sigma_t x0, and data prediction the same loss on the velocity it implies
 * (JiT's v-loss); noise: mean(w (eps - x0)^2); score: mean(w (s sigma_t + x0)^2),
 * w the loss weight (1; (g_t / sigma_t)^2 for velocity; g_t / sigma_t^2 for likelihood, g_t the
 * drift variance). A network with a learned sigma has its first C output channels read, as SiT's
 * forward drops the rest.
 */
public final class TransportObjective implements TrainingObjective {
    private final Transport transport;

    public TransportObjective(Transport transport) {
        this.transport = transport;
    }

    public Transport transport() {
        return transport;
    }

    @Override
    public Tensor losses(Denoiser net, Tensor x1, Generator gen) {
        try (TensorScope s = TensorScope.open()) {
            long n = x1.size(0);
            Tensor x0 = Tensor.randn(x1.shape(), x1.dtype(), x1.device(), gen);
            double[] interval = transport.trainInterval();
            Tensor u = transport.time() == Transport.TimeSampling.UNIFORM
                    ? Tensor.rand(new long[] {n}, x1.dtype(), x1.device(), gen)
                    : Tensor.randn(new long[] {n}, x1.dtype(), x1.device(), gen).mul(Transport.TimeSampling.LOGIT_STD).add(Transport.TimeSampling.LOGIT_MEAN).sigmoid();
            Tensor t = u.mul(interval[1] - interval[0]).add(interval[0]);
            return s.keep(losses(net, x1, x0, t));
        }
    }

    /** Per-sample losses [N] on given draws: noise x0 like x1, times t [N] in [0, 1]. */
    public Tensor losses(Denoiser net, Tensor x1, Tensor x0, Tensor t) {
        try (TensorScope s = TensorScope.open()) {
            Tensor te = t.reshape(-1, 1, 1, 1);
            Transport.Path path = transport.path();
            Tensor xt, out;
            try (Transport.Coefficients c = path.coefficients(te)) {
                xt = c.alpha().mul(x1).add(c.sigma().mul(x0));
                out = channels(net.apply(xt, t), x1);
                if (transport.prediction() == Transport.Prediction.VELOCITY || transport.prediction() == Transport.Prediction.DATA) {
                    Tensor ut = c.dAlpha().mul(x1).add(c.dSigma().mul(x0));
                    Tensor v = transport.prediction() == Transport.Prediction.DATA ? path.velocityFromData(out, xt, te) : out;
                    return s.keep(GaussianDiffusion.meanFlat(v.sub(ut).square()));
                }
                Tensor driftVar = path.drift(xt, te)[1];
                Tensor sigma = c.sigma();
                Tensor weight = switch (transport.weight()) {
                    case VELOCITY -> driftVar.div(sigma).square();
                    case LIKELIHOOD -> driftVar.div(sigma.square());
                    case NONE -> null;
                };
                Tensor err = transport.prediction() == Transport.Prediction.NOISE ? out.sub(x0).square() : out.mul(sigma).add(x0).square();
                return s.keep(GaussianDiffusion.meanFlat(weight == null ? err : weight.mul(err)));
            }
        }
    }

    /** The network's first C channels (a learned-sigma network's prediction), refused when it gives fewer. */
    static Tensor channels(Tensor out, Tensor x) {
        long c = x.size(1);
        if (out.size(1) < c) throw new IllegalArgumentException("a transport objective needs " + c + " output channels, the network gave " + out.size(1));
        return out.size(1) == c ? out : out.narrow(1, 0, c);
    }

    @Override
    public void close() {}
}
