package dev.dit4j.bench;

import dev.dit4j.models.microdit.ExpertChoiceMoe;
import dev.dit4j.models.microdit.SwiGlu;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.VarBuilder;
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

/**
 * MicroDiT's expert-choice MoE forward + backward at MicroDiT_Tiny_2's mixer shape (8 experts,
 * capacity 2, [batch, 256 tokens, 512] -> hidden 2048) against a dense SwiGLU of the same active
 * MACs per token (2 experts x 2 d h = 3 d h' with h' = 4h/3). The authors' PyTorch layer at the
 * same shapes: bench/moe_reference.py.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Ddit4j.leakReport=false"})
@State(Scope.Thread)
public class MoeBench {
    @Param({"8"})
    public long batch;

    @Param({"256"})
    public long tokens;

    @Param({"cpu"})
    public String device;

    private Device dev;
    private Tensor x;
    private ExpertChoiceMoe moe;
    private SwiGlu dense;

    @Setup(Level.Trial)
    public void setup() {
        dev = Device.parse(device);
        try (Generator g = Generator.create(0, dev)) {
            VarBuilder vb = VarBuilder.init(DType.FLOAT32, dev, g);
            moe = new ExpertChoiceMoe(vb.pp("moe"), 512, 2048, 8, 2.0, 0.02);
            dense = new SwiGlu(vb.pp("dense"), 512, 4 * 2048 / 3, 0.02);
            x = Tensor.randn(new long[] {batch, tokens, 512}, DType.FLOAT32, dev, g);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
        moe.close();
        dense.close();
    }

    @Benchmark
    public void moeForwardBackward() {
        run(moe, moe.forward(x));
    }

    @Benchmark
    public void denseForwardBackward() {
        run(dense, dense.forward(x));
    }

    private void run(Module m, Tensor out) {
        try (TensorScope s = TensorScope.open()) {
            out.sum().backward();
            out.close();
            m.zeroGrad();
            Torch.synchronize(dev);
        }
    }
}
