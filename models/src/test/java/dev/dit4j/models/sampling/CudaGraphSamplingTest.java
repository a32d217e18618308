package dev.dit4j.models.sampling;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiT;
import dev.dit4j.nn.CudaGraph;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The CUDA-graph sampler against the eager one, on a GPU with a shim built for graphs (skipped
 * elsewhere, as on CI): deterministic DDIM replays the captured step to the same latents, and
 * DDPM's replayed noise is fresh at every step (the generator advances across replays).
 */
class CudaGraphSamplingTest {
    private static final DiT.Config TINY = DiT.PRESETS.get("DiT-S/2").withDepth(2).withInputSize(8).withNumClasses(10);

    @Test
    void graphedDdimEqualsEagerAndGraphedDdpmDrawsFreshNoise() {
        Assumptions.assumeTrue(Torch.cudaAvailable() && CudaGraph.supported(), "needs a CUDA device and a shim built with CUDA graphs");
        Device cuda = Device.cuda(0);
        long live = Torch.liveTensors();
        try (DiT model = TINY.create(cuda, 0); GaussianSampler ddim = GaussianSampler.ddim(10, 0);
             GaussianSampler ddpm = GaussianSampler.ddpm(10); Generator g = Generator.create(1, cuda); TensorScope s = TensorScope.open()) {
            model.eval();
            Tensor y = Tensor.randint(0, 10, new long[] {2}, cuda, g);
            Denoiser denoiser = (x, t) -> model.forward(x, t, y);
            Tensor noise = Tensor.randn(new long[] {2, 4, 8, 8}, DType.FLOAT32, cuda, g);
            Tensor eager = ddim.sample(denoiser, noise, g);
            Tensor graphed = ddim.sampleWithCudaGraph(denoiser, noise, g);
            double rel = eager.sub(graphed).square().sum().sqrt().item() / eager.square().sum().sqrt().item();
            assertTrue(rel < 1e-5, "graphed DDIM differs from eager by " + rel);

            Tensor a = ddpm.sampleWithCudaGraph(denoiser, noise, g);
            Tensor b = ddpm.sampleWithCudaGraph(denoiser, noise, g);
            assertEquals(a.numel(), (long) a.isfinite().to(DType.FLOAT32).sum().item(), "non-finite samples");
            assertTrue(a.sub(b).abs().max().item() > 1e-3, "two graphed DDPM runs drew the same noise");
        }
        assertEquals(live, Torch.liveTensors(), "tensors leaked");
    }
}
