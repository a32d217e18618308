package dev.dit4j.models.vae;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tiling mechanics on maps without context (each output pixel depends on its own input
 * pixels only): there every tile agrees with the whole on the overlaps, so the blended result must
 * equal the untiled one exactly wherever the tiles are placed, cropped and blended right.
 */
class TilingTest {
    @ParameterizedTest
    @CsvSource({"96, 64, 0.25", "200, 64, 0.25", "136, 32, 0.5", "72, 40, 0", "64, 64, 0.25"})
    void blendedTilesOfAContextFreeMapEqualTheWhole(int size, int tile, double overlap) {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.cpu(1)) {
            Chunking c = Chunking.tiles(tile).withOverlap(overlap);
            Tensor x = Tensor.randn(new long[] {2, 3, size, size + 16}, DType.FLOAT32, Device.CPU, g);
            Tensor down = Tiling.tiled(x, c, tile, 8, false, t -> Functional.avgPool2d(t, 8, 8));
            assertArrayEquals(new long[] {2, 3, size / 8, size / 8 + 2}, down.shape());
            assertTrue(down.allclose(Functional.avgPool2d(x, 8, 8), 1e-5, 1e-6), "tiled 8x average pooling");
            Tensor z = Tensor.randn(new long[] {2, 4, size / 8, size / 8 + 2}, DType.FLOAT32, Device.CPU, g);
            Tensor up = Tiling.tiled(z, c, tile / 8, 8, true, t -> nearest8(t).mul(3));
            assertTrue(up.allclose(nearest8(z).mul(3), 1e-5, 1e-6), "tiled 8x nearest upsampling");
        }
        assertEquals(live, Torch.liveTensors());
    }

    private static Tensor nearest8(Tensor t) {
        return Functional.interpolate(t, 8 * t.size(2), 8 * t.size(3), Functional.Interpolation.NEAREST, false);
    }
}
