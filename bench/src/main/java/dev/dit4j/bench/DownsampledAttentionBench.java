package dev.dit4j.bench;

import dev.dit4j.models.udit.DownsampledAttention;
import dev.dit4j.nn.Autocast;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.FlopCounter;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.VarBuilder;
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

/**
 * U-DiT's downsampled self-attention against full attention over the same tokens: the same layer
 * (depthwise downsampler, shared qkv, 2-d RoPE, cosine attention, output conv) with down factor 2
 * (four sub-images of HW/4 tokens each) and factor 1 (one attention over all HW tokens). The
 * trial's setup prints its MAC count (attention matmuls and whole layer) from {@link FlopCounter},
 * so the measured time ratio can be set beside the theoretical one.
 *
 * <p>Shapes "NxDxHxWxheads": U-DiT-S's stage 1 and stage 2 on a 256px image's 32x32 latent.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Ddit4j.leakReport=false"})
@State(Scope.Thread)
public class DownsampledAttentionBench {
    @Param({"8x96x32x32x4", "8x192x16x16x4"})
    public String shape;

    @Param({"1", "2"})
    public int factor;

    @Param({"cpu"})
    public String device;

    /** float32, or bfloat16 under autocast (parameters stay float32, as in training). */
    @Param({"float32"})
    public String dtype;

    private Device dev;
    private DownsampledAttention layer;
    private Tensor x;
    private DType autocast;

    @Setup(Level.Trial)
    public void setup() {
        dev = Device.parse(device);
        long[] s = java.util.Arrays.stream(shape.split("x")).mapToLong(Long::parseLong).toArray();
        autocast = dtype.equalsIgnoreCase("float32") ? null : DType.valueOf(dtype.toUpperCase());
        try (Generator g = Generator.create(0, dev)) {
            layer = new DownsampledAttention(VarBuilder.init(DType.FLOAT32, dev, g), (int) s[1], (int) s[4], factor, 5);
            x = Tensor.randn(new long[] {s[0], s[1], s[2], s[3]}, DType.FLOAT32, dev, g).requiresGrad(true);
        }
        try (FlopCounter c = FlopCounter.start()) {
            forward().close();
            long attention = c.byOp().getOrDefault(FlopCounter.Op.SCALED_DOT_PRODUCT_ATTENTION, 0L);
            System.out.printf("# flops shape=%s factor=%d attention_macs=%d layer_macs=%d%n", shape, factor, attention, c.macs());
        }
    }

    private Tensor forward() {
        if (autocast == null) return layer.forward(x);
        try (Autocast.Region r = Autocast.enable(dev, autocast)) {
            return layer.forward(x);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
        x.close();
    }

    @Benchmark
    public void forwardOnly() {
        try (var noGrad = Autograd.noGrad()) {
            forward().close();
        }
        Torch.synchronize(dev);
    }

    @Benchmark
    public void forwardBackward() {
        try (Tensor y = forward(); Tensor loss = y.sum()) {
            loss.backward();
        }
        layer.zeroGrad();
        x.zeroGrad();
        Torch.synchronize(dev);
    }
}
