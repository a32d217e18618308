package dev.dit4j.examples;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Reduction;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.List;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.Numbers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Fits a small MLP to y = sin(3x) with Adam written in tensor ops: the foundation end to end. */
@Command(name = "mlp-demo", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.MlpDemo",
        description = "Fit a small MLP to sin(3x) and print its loss.")
public final class MlpDemo implements Runnable {
    @Option(names = "--steps", converter = Numbers.PositiveInt.class, description = "training steps (default ${DEFAULT-VALUE})")
    int steps = 600;

    @Option(names = "--hidden", converter = Numbers.PositiveInt.class, description = "hidden width (default ${DEFAULT-VALUE})")
    int hidden = 64;

    @Mixin
    LrOption lrOption = new LrOption(1e-2);

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Override
    public void run() {
        Device dev = deviceOption.device();
        long liveBefore = Torch.liveTensors();
        try (TensorScope run = TensorScope.open(); Generator gen = Generator.create(0, dev)) {
            Tensor x = Tensor.linspace(-1, 1, 256, DType.FLOAT32, dev).unsqueeze(1);
            Tensor y = x.mul(3).sin();
            List<Tensor> params = List.of(
                    Tensor.randn(new long[] {hidden, 1}, DType.FLOAT32, dev, gen).mul_(1.0).requiresGrad(true),
                    Tensor.zeros(new long[] {hidden}, DType.FLOAT32, dev).requiresGrad(true),
                    Tensor.randn(new long[] {1, hidden}, DType.FLOAT32, dev, gen).mul_(1.0 / Math.sqrt(hidden)).requiresGrad(true),
                    Tensor.zeros(new long[] {1}, DType.FLOAT32, dev).requiresGrad(true));
            Adam adam = new Adam(params, lrOption.lr());
            double first = Double.NaN;
            double last = Double.NaN;
            long start = System.nanoTime();
            for (int step = 1; step <= steps; step++) {
                try (TensorScope s = TensorScope.open()) {
                    Tensor h = Functional.linear(x, params.get(0), params.get(1)).tanh();
                    Tensor loss = Functional.mseLoss(Functional.linear(h, params.get(2), params.get(3)), y, Reduction.MEAN);
                    loss.backward();
                    adam.step();
                    if (step == 1 || step % 100 == 0 || step == steps) {
                        last = loss.item();
                        if (step == 1) first = last;
                        System.out.printf("step %4d  loss %.6f%n", step, last);
                    }
                }
            }
            adam.close();
            System.out.printf("mlp-demo: loss %.6f -> %.6f in %d steps (%.2f s) on %s%n", first, last, steps,
                    (System.nanoTime() - start) / 1e9, dev);
        }
        System.out.printf("mlp-demo: live tensors before %d, after %d%n", liveBefore, Torch.liveTensors());
    }

    /** Plain Adam in tensor ops (the library's fused AdamW comes with the optimizers). */
    private static final class Adam implements AutoCloseable {
        private final List<Tensor> params;
        private final List<Tensor> m;
        private final List<Tensor> v;
        private final double lr;
        private int t;

        Adam(List<Tensor> params, double lr) {
            this.params = params;
            this.lr = lr;
            this.m = params.stream().map(p -> p.detach().mul(0)).toList();
            this.v = params.stream().map(p -> p.detach().mul(0)).toList();
        }

        void step() {
            t++;
            double c1 = 1 - Math.pow(0.9, t);
            double c2 = 1 - Math.pow(0.999, t);
            try (var noGrad = Autograd.noGrad(); TensorScope s = TensorScope.open()) {
                for (int i = 0; i < params.size(); i++) {
                    Tensor g = params.get(i).grad();
                    m.get(i).mul_(0.9).add_(g, 0.1);
                    v.get(i).mul_(0.999).add_(g.square(), 0.001);
                    Tensor update = m.get(i).div(c1).div(v.get(i).div(c2).sqrt().add(1e-8));
                    params.get(i).add_(update, -lr);
                    params.get(i).zeroGrad();
                }
            }
        }

        @Override
        public void close() {
            m.forEach(Tensor::close);
            v.forEach(Tensor::close);
        }
    }
}
