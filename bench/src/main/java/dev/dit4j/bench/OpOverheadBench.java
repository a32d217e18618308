package dev.dit4j.bench;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Torch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Host overhead of one tiny op: a 4-element add from Java (Tensor API, result closed) against
 * the same add-and-free loop run in C++ through the shim's own entry points. The difference is
 * what the Java layer costs per op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Ddit4j.leakReport=false"})
@State(Scope.Thread)
public class OpOverheadBench {
    private static final int LOOP = 10_000;
    private Tensor a;
    private Tensor b;

    @Setup(Level.Trial)
    public void setup() {
        a = Tensor.vector(1, 2, 3, 4);
        b = Tensor.vector(4, 3, 2, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
    }

    @Benchmark
    @OperationsPerInvocation(LOOP)
    public void javaTensorAdd() {
        for (int i = 0; i < LOOP; i++) {
            a.add(b).close();
        }
    }

    /** The same work in a C++ loop calling dt_binary and dt_tensor_free. */
    @Benchmark
    @OperationsPerInvocation(LOOP)
    public long cppShimAdd() {
        return Torch.nativeAddLoopNanos(a, b, LOOP);
    }
}
