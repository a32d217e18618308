package dev.dit4j.bench;

import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.SdpaBackend;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Torch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * Attention forward, and forward + backward, per forced backend, at [batch, heads, tokens, headDim]
 * (a 25% token subset, as MicroDiT's masking leaves, is the same shape with a quarter of the
 * tokens). A backend that cannot
 * run the configuration fails the trial with libtorch's reason (JMH reports it) rather than
 * silently measuring another kernel.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Ddit4j.leakReport=false"})
@State(Scope.Thread)
public class AttentionBench {
    @Param({"8x12x256x64"})
    public String shape;

    @Param({"MATH", "FLASH"})
    public String backend;

    @Param({"cpu"})
    public String device;

    @Param({"float32"})
    public String dtype;

    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Device dev;
    private SdpaBackend kernel;

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) {
        dev = Device.parse(device);
        kernel = SdpaBackend.valueOf(backend);
        long[] dims = java.util.Arrays.stream(shape.split("x")).mapToLong(Long::parseLong).toArray();
        DType dt = DType.valueOf(dtype.toUpperCase());
        q = Tensor.randn(dims, dt, dev, null).requiresGrad(true);
        k = Tensor.randn(dims, dt, dev, null).requiresGrad(true);
        v = Tensor.randn(dims, dt, dev, null).requiresGrad(true);
        try (var probe = Functional.scaledDotProductAttention(q, k, v, null, 0, false, 0, kernel)) {
            if (probe.backend() != kernel) throw new IllegalStateException("asked for " + kernel + ", ran " + probe.backend());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        q.close();
        k.close();
        v.close();
    }

    @Benchmark
    public void forward() {
        try (var noGrad = Autograd.noGrad()) {
            Functional.scaledDotProductAttention(q, k, v, null, 0, false, 0, kernel).close();
        }
        Torch.synchronize(dev);
    }

    @Benchmark
    public void forwardBackward() {
        try (var attn = Functional.scaledDotProductAttention(q, k, v, null, 0, false, 0, kernel); Tensor loss = attn.output().sum()) {
            loss.backward();
        }
        q.zeroGrad();
        k.zeroGrad();
        v.zeroGrad();
        Torch.synchronize(dev);
    }
}
