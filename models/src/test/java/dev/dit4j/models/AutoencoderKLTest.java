package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.models.vae.Chunking;
import dev.dit4j.models.vae.DiagonalGaussian;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The autoencoder's own behaviour: posterior sampling, slicing and tiling, and bad input named clearly. */
class AutoencoderKLTest {
    /** f8, width 32: small enough for tests, the released autoencoders' structure. */
    static final AutoencoderKL.Config SMALL = AutoencoderKL.SD.withChannels(32).withChannelMult(List.of(1, 1, 2, 2)).withNumResBlocks(1);

    @TempDir
    Path dir;
    private long live;
    private TensorScope scope;
    private Autograd.GradMode noGrad;

    @BeforeEach
    void open() {
        live = Torch.liveTensors();
        scope = TensorScope.open();
        noGrad = Autograd.noGrad();
    }

    @AfterEach
    void close() {
        noGrad.close();
        scope.close();
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    private static Tensor images(long n, long size, long seed) {
        try (Generator g = Generator.cpu(seed)) {
            return Tensor.rand(new long[] {n, 3, size, size}, DType.FLOAT32, Device.CPU, g).mul(2).sub(1);
        }
    }

    @Test
    void samplesAreTheMeanPlusStdTimesOneSeededDraw() {
        try (AutoencoderKL vae = SMALL.create(Device.CPU, 1); DiagonalGaussian q = vae.encode(images(2, 32, 2));
             Generator g1 = Generator.cpu(9); Generator g2 = Generator.cpu(9)) {
            Tensor sample = q.sample(g1);
            Tensor eps = Tensor.randn(new long[] {2, 4, 4, 4}, DType.FLOAT32, Device.CPU, g2);
            Tensor logvar = q.moments().narrow(1, 4, 4).clamp(-30, 20);
            assertTrue(sample.allclose(q.mean().add(logvar.mul(0.5).exp().mul(eps)), 1e-6, 1e-6));
            assertArrayEquals(new long[] {2, 4, 4, 4}, q.mean().shape());
            assertArrayEquals(new long[] {2}, q.kl().shape());
        }
    }

    @Test
    void batchSlicesGiveTheWholeBatchsResult() {
        try (AutoencoderKL vae = SMALL.create(Device.CPU, 1); DiagonalGaussian whole = vae.encode(images(3, 32, 3));
             DiagonalGaussian sliced = vae.encode(images(3, 32, 3), Chunking.slices(2))) {
            double encodeErr = Fixtures.relativeL2(sliced.moments(), whole.moments());
            Tensor z = whole.mean();
            double decodeErr = Fixtures.relativeL2(vae.decode(z, Chunking.slices(1)), vae.decode(z));
            System.out.printf("sliced vs whole batch: encode rel L2 %.2e, decode rel L2 %.2e%n", encodeErr, decodeErr);
            assertTrue(encodeErr < 1e-5 && decodeErr < 1e-5, "slices differ from the whole batch beyond float rounding");
        }
    }

    /**
     * A tile as large as the image is no tiling. Smaller tiles cannot equal the whole: GroupNorm
     * and the mid-block attention see one tile, and each tile's border is zero-padded, which at
     * random initialisation (a deep stack of 3x3 convolutions, global attention) reaches far into
     * the tile. So the residual branches and the attention are switched off here (their last
     * convolution zeroed: residual no-ops), leaving a shallow, nearly local model on a stationary
     * image; what remains is GroupNorm's per-tile statistics (measured: encode 7e-2, decode 1.8e-1
     * relative L2). The placing, cropping and blending themselves are exact: {@code TilingTest}.
     */
    @Test
    void tilesCoveringTheImageAreExactAndSmallerTilesBlendCloseToTheWhole() {
        try (AutoencoderKL vae = SMALL.create(Device.CPU, 4)) {
            vae.stateDict().forEach((k, v) -> {
                if (k.contains(".conv2.") || k.contains(".proj_out.")) v.zero_();
            });
            Tensor x = images(1, 192, 5);
            try (DiagonalGaussian whole = vae.encode(x); DiagonalGaussian oneTile = vae.encode(x, Chunking.tiles(192));
                 DiagonalGaussian tiled = vae.encode(x, Chunking.tiles(128))) {
                assertTrue(oneTile.moments().allclose(whole.moments(), 0, 0), "a tile as large as the image is no tiling");
                assertArrayEquals(whole.moments().shape(), tiled.moments().shape());
                double encodeErr = Fixtures.relativeL2(tiled.moments(), whole.moments());
                Tensor z = whole.mean();
                Tensor decoded = vae.decode(z);
                Tensor tiledDecoded = vae.decode(z, Chunking.tiles(128));
                assertArrayEquals(decoded.shape(), tiledDecoded.shape());
                double decodeErr = Fixtures.relativeL2(tiledDecoded, decoded);
                System.out.printf("tiled vs whole (192 px, tiles 128): encode rel L2 %.3e, decode rel L2 %.3e%n", encodeErr, decodeErr);
                assertTrue(encodeErr < 0.1, "tiled encode rel L2 " + encodeErr);
                assertTrue(decodeErr < 0.25, "tiled decode rel L2 " + decodeErr);
            }
        }
    }

    /**
     * The float16 fallback, reached on the CPU (which runs float16 too): latents large enough to
     * overflow float16 inside the decoder give a non-finite half result, which is redone in float32
     * from the same (half-rounded) weights; a finite half result is kept as it is.
     */
    @Test
    void aFloat16DecodeThatOverflowsIsRedoneInFloat32() {
        Path halfFile = dir.resolve("half.safetensors"), fullFile = dir.resolve("full.safetensors");
        try (AutoencoderKL vae = SMALL.create(Device.CPU, 6)) {
            Safetensors.save(halfFile, vae.stateDict());
        }
        try (AutoencoderKL half = AutoencoderKL.load(halfFile, DType.FLOAT16, Device.CPU)) {
            Tensor z;
            try (Generator g = Generator.cpu(7)) {
                z = Tensor.randn(new long[] {1, 4, 4, 4}, DType.FLOAT32, Device.CPU, g);
            }
            Tensor small = half.decode(z.to(DType.FLOAT16));
            assertEquals(DType.FLOAT16, small.dtype(), "a finite half decode is kept");
            half.stateDict().get("post_quant_conv.weight").mul_(1e4); // finite in half, but its sums over latents of 100 are not
            Tensor huge = z.mul(100).to(DType.FLOAT16);
            Safetensors.save(fullFile, half.stateDict().entrySet().stream().collect(java.util.stream.Collectors.toMap(
                    java.util.Map.Entry::getKey, e -> e.getValue().to(DType.FLOAT32))));
            Tensor redone = half.decode(huge);
            assertEquals(DType.FLOAT32, redone.dtype(), "an overflowing half decode is redone in float32");
            assertEquals(0, redone.isfinite().logicalNot().sum().item(), "the float32 result is finite");
            try (AutoencoderKL full = AutoencoderKL.load(fullFile, Device.CPU)) {
                assertTrue(redone.allclose(full.decode(huge.to(DType.FLOAT32)), 0, 0), "from the half weights, in float32");
            }
        }
    }

    @Test
    void imagesWhoseSizeIsNotAMultipleOf8AreRefused() {
        try (AutoencoderKL vae = SMALL.create(Device.CPU, 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> vae.encode(images(1, 36, 1)));
            assertTrue(e.getMessage().contains("36x36 is not divisible by 8"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> vae.encode(Tensor.zeros(1, 4, 32, 32)));
            assertTrue(e.getMessage().contains("[N, 3, H, W]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> vae.decode(Tensor.zeros(1, 16, 4, 4)));
            assertTrue(e.getMessage().contains("[N, 4, h, w]"), e.getMessage());
        }
    }

    @Test
    void weightsOfAnotherModelOrArchitectureAreNamed() throws IOException {
        Path dit = dir.resolve("dit.safetensors");
        try (DiT model = DiT.PRESETS.get("DiT-S/8").withInputSize(16).create(Device.CPU, 1)) {
            Safetensors.save(dit, model.stateDict());
        }
        Exception e = assertThrows(CheckpointException.class, () -> AutoencoderKL.load(dit, Device.CPU));
        assertTrue(e.getMessage().contains("holds no AutoencoderKL"), e.getMessage());

        Path small = dir.resolve("small.safetensors");
        try (AutoencoderKL vae = SMALL.create(Device.CPU, 1)) {
            Safetensors.save(small, vae.stateDict());
        }
        StateDictMismatch m = assertThrows(StateDictMismatch.class, () -> AutoencoderKL.SD.load(small, Device.CPU));
        assertFalse(m.misshaped().isEmpty(), m.getMessage());
        assertTrue(m.getMessage().contains("encoder.conv_in.weight: checkpoint [32, 3, 3, 3], model [128, 3, 3, 3]"), m.getMessage());
        try (AutoencoderKL inferred = AutoencoderKL.load(small, Device.CPU)) {
            assertTrue(inferred.config().sameArchitecture(SMALL));
        }

        // GroupNorm's groups come from the diffusers config.json beside the weights; a count that does not divide the widths is named
        Files.writeString(dir.resolve("config.json"), "{\"norm_num_groups\": 8}");
        assertEquals(8, AutoencoderKL.Config.inferFrom(small).normGroups());
        Files.writeString(dir.resolve("config.json"), "{\"norm_num_groups\": 5}");
        e = assertThrows(CheckpointException.class, () -> AutoencoderKL.load(small, Device.CPU));
        assertTrue(e.getMessage().contains("multiples of 5 (GroupNorm's groups)"), e.getMessage());
    }
}
