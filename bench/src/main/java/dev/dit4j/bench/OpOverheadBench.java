package dev.dit4j.bench;

import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Torch;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
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
 *
 * <p>{@link #main} measures the same two loops in thread CPU time, alternating them: on a shared
 * machine whose other load preempts this thread, CPU time is far steadier than JMH's wall time.
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

    /** Median thread-CPU nanoseconds per op of both loops, alternated: {@code [rounds] [invocations per round]}. */
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        OpOverheadBench bench = new OpOverheadBench();
        bench.setup();
        for (int i = 0; i < 300; i++) { // warm up (compile) both paths
            bench.javaTensorAdd();
            bench.cppShimAdd();
        }
        double[] java = new double[rounds];
        double[] cpp = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < perRound; i++) bench.javaTensorAdd();
            long t1 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < perRound; i++) bench.cppShimAdd();
            long t2 = cpu.getCurrentThreadCpuTime();
            java[r] = (t1 - t0) / (double) (perRound * LOOP);
            cpp[r] = (t2 - t1) / (double) (perRound * LOOP);
        }
        bench.tearDown();
        Arrays.sort(java);
        Arrays.sort(cpp);
        System.out.printf("thread CPU ns/op, median of %d rounds (min..max): javaTensorAdd %.0f (%.0f..%.0f), "
                + "cppShimAdd %.0f (%.0f..%.0f), ratio %.3f%n", rounds, java[rounds / 2], java[0], java[rounds - 1],
                cpp[rounds / 2], cpp[0], cpp[rounds - 1], java[rounds / 2] / cpp[rounds / 2]);
    }
}
