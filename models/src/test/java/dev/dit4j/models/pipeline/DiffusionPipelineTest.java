package dev.dit4j.models.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiT;
import dev.dit4j.models.data.Images;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pipeline from a released-style file: batches on their own seeds, images as bytes, refusals by name, nothing leaked. */
class DiffusionPipelineTest {
    @TempDir
    Path dir;

    /** A tiny pixel-space DiT (3 x 8 x 8, 10 classes) saved as a torch.save'd state dict. */
    private Path weights() {
        Path file = dir.resolve("dit.pt");
        try (TensorScope s = TensorScope.open(); DiT m = DiT.S_2.withDepth(1).withInputSize(8).withInChannels(3).withNumClasses(10).create(Device.CPU, 2)) {
            try (var g = dev.dit4j.nn.Autograd.noGrad()) {
                for (Tensor p : m.parameters()) p.normal_(0, 0.02, null);
            }
            TorchCheckpoint.write(file, m.stateDict());
        }
        return file;
    }

    @Test
    void anyBatchAloneIsThatBatchOfTheWholeRun() {
        long live = Torch.liveTensors();
        try (DiffusionPipeline p = DiffusionPipeline.from(weights()).load()) {
            assertEquals("DiT-S/2", p.checkpoint().preset());
            assertEquals(SamplerKind.DDPM, p.recipe().sampler());
            assertTrue(p.producesImages(), "a 3-channel model samples images");
            SampleRequest r = SampleRequest.labels(1, 2, 3).withBatch(2).withSeed(7).withSampler(SamplerKind.DDIM, 3);
            try (Samples all = p.sample(r); Samples second = p.sampleBatch(r, 1); TensorScope s = TensorScope.open()) {
                assertArrayEquals(new long[] {3, 3, 8, 8}, all.latents().shape());
                assertArrayEquals(new long[] {1, 2, 3}, all.labels().toLongArray());
                assertTrue(second.latents().allclose(all.latents().narrow(0, 2, 1), 0, 0), "batch 1 alone draws what the run drew");
                Tensor bytes = all.uint8();
                assertArrayEquals(new long[] {3, 8, 8, 3}, bytes.shape());
                float[] chw = all.images().toFloatArray();
                long[] hwc = bytes.to(DType.INT64).toLongArray();
                for (int i = 0; i < chw.length; i += 7) { // image n, channel c, row y, column x
                    int n = i / 192, c = i / 64 % 3, y = i / 8 % 8, x = i % 8;
                    assertEquals(Images.toByte(chw[i]), hwc[((n * 8 + y) * 8 + x) * 3 + c], "uint8 as the PNG writer rounds");
                }
                assertEquals(3, all.toImages().size());
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.check(SampleRequest.labels(10)));
            assertTrue(e.getMessage().contains("not a class"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.check(SampleRequest.prompts(List.of("a cat"))));
            assertTrue(e.getMessage().contains("takes labels, not prompts"), e.getMessage());
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void bfloat16WeightsSampleWhatFloat32SamplesWithinTheirPrecision() {
        long live = Torch.liveTensors();
        Path file = weights();
        SampleRequest r = SampleRequest.labels(1, 2).withSeed(3).withSampler(SamplerKind.DDIM, 4).withGuidance(2.0);
        try (DiffusionPipeline full = DiffusionPipeline.from(file).load(); DiffusionPipeline half = DiffusionPipeline.from(file).dtype(DType.BFLOAT16).load();
             Samples exact = full.sample(r); Samples cast = half.sample(r); Samples amp = full.sample(r.withAutocast(DType.BFLOAT16))) {
            assertEquals(DType.BFLOAT16, half.model().dtype());
            assertEquals(DType.FLOAT32, cast.latents().dtype(), "the sampler hands back float32");
            double castError = relativeL2(cast.latents(), exact.latents()), ampError = relativeL2(amp.latents(), exact.latents());
            assertTrue(castError > 0 && castError < 0.02, "bfloat16 weights: relative L2 " + castError);
            assertTrue(ampError < 0.02, "autocast: relative L2 " + ampError);
        }
        assertEquals(live, Torch.liveTensors());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiffusionPipeline.from(file).dtype(DType.INT64));
        assertTrue(e.getMessage().contains("float32, bfloat16 or float16"), e.getMessage());
    }

    private static double relativeL2(Tensor actual, Tensor expected) {
        try (TensorScope s = TensorScope.open()) {
            Tensor a = actual.to(DType.FLOAT64), b = expected.to(DType.FLOAT64);
            return a.sub(b).norm(2, null, false).item() / b.norm(2, null, false).item();
        }
    }

    @Test
    void aFileOfAnotherFamilyOrSizeIsRefusedByName() {
        Path w = weights();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiffusionPipeline.from(w).preset("imagenet256_uvit_huge").load());
        assertTrue(e.getMessage().contains("hold a DiT model"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DiffusionPipeline.from(w).imageSize(16).load());
        assertTrue(e.getMessage().contains("sized for 8x8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DiffusionPipeline.from(w).trainedWith(2, null).load());
        assertTrue(e.getMessage().contains("blocks.1"), e.getMessage());
    }
}
