package dev.dit4j.bench;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
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

/** Linear forward + backward at a DiT-B MLP shape: [tokens, 768] -> 3072 (256 images x 256 tokens = 65536). */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Ddit4j.leakReport=false"})
@State(Scope.Thread)
public class LinearBench {
    @Param({"65536"})
    public long tokens;

    @Param({"cpu"})
    public String device;

    @Param({"float32"})
    public String dtype;

    private Tensor x;
    private Tensor w;
    private Tensor b;
    private Device dev;

    @Setup(Level.Trial)
    public void setup() {
        dev = Device.parse(device);
        DType dt = DType.valueOf(dtype.toUpperCase());
        x = Tensor.randn(new long[] {tokens, 768}, dt, dev, null);
        w = Tensor.randn(new long[] {3072, 768}, dt, dev, null).mul_(0.02).requiresGrad(true);
        b = Tensor.zeros(new long[] {3072}, dt, dev).requiresGrad(true);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        w.close();
        b.close();
    }

    @Benchmark
    public void forwardBackward() {
        try (TensorScope s = TensorScope.open()) {
            Functional.linear(x, w, b).sum().backward();
            w.zeroGrad();
            b.zeroGrad();
            Torch.synchronize(dev);
        }
    }
}
