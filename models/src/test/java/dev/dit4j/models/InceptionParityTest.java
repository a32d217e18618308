package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dit4j.models.eval.InceptionV3;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The FID Inception against pytorch-fid's InceptionV3 (make_inception_fixtures.py) on seeded
 * random weights written as a .pth in the released key layout (torchvision's, with BatchNorm's
 * num_batches_tracked), from uint8 images at 299 px and at 32, 64 and 256 px (the resize path).
 */
class InceptionParityTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    static Path dir;
    static Path weights;

    @BeforeAll
    static void writeWeights() {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("inception_fid_299.safetensors"); TensorScope s = TensorScope.open()) {
            weights = dir.resolve("pt_inception-2015-12-05-test.pth");
            TorchCheckpoint.write(weights, seeded(ref.metadata(), ref.tensors().get("weight_sums")));
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    /** The fixture's weights (its draw(): He-scaled convs, BatchNorm near identity) plus num_batches_tracked. */
    static Map<String, Tensor> seeded(Map<String, String> meta, Tensor sums) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (InceptionV3 shell = InceptionV3.create(Device.CPU)) {
            shell.stateDict().forEach((k, v) -> shapes.put(k, v.shape()));
        }
        List<String> keys = List.of(meta.get("keys").split(","));
        assertEquals(keys, List.copyOf(shapes.keySet()), "state-dict keys and their order match torchvision's");
        double[] expected = sums.toDoubleArray();
        Map<String, Tensor> state = new LinkedHashMap<>();
        try (Generator g = Generator.cpu(Long.parseLong(meta.get("weight_seed")))) {
            for (int i = 0; i < keys.size(); i++) {
                String k = keys.get(i);
                long[] shape = shapes.get(k);
                Tensor r = Tensor.randn(shape, DType.FLOAT32, Device.CPU, g);
                Tensor w;
                if (k.endsWith("conv.weight")) w = r.mul(Math.sqrt(2.0 / (shape[1] * shape[2] * shape[3])));
                else if (k.endsWith("bn.weight") || k.endsWith("bn.running_var")) w = r.mul(0.1).add(1);
                else if (k.equals("fc.weight")) w = r.div(Math.sqrt(2048));
                else w = r.mul(0.1);
                assertEquals(expected[i], w.to(DType.FLOAT64).sum().item(), 1e-9 * Math.max(1, Math.abs(expected[i])), k);
                state.put(k, w);
                if (k.endsWith("bn.running_var")) {
                    state.put(k.replace("running_var", "num_batches_tracked"), Tensor.of(new long[] {0}).reshape());
                }
            }
        }
        return state;
    }

    @ParameterizedTest
    @ValueSource(ints = {299, 32, 64, 256})
    void matchesPytorchFid(int size) {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("inception_fid_" + size + ".safetensors"); TensorScope s = TensorScope.open();
             InceptionV3 net = InceptionV3.load(weights, Device.CPU)) {
            InceptionV3.Features f = net.features(ref.tensors().get("x"));
            double pool3 = Fixtures.relativeL2(f.pool3(), ref.tensors().get("pool3"));
            double spatial = Fixtures.relativeL2(f.spatial(), ref.tensors().get("spatial"));
            double logits = Fixtures.relativeL2(f.logits(), ref.tensors().get("logits"));
            System.out.printf("inception %d px: pool3 %.1e spatial %.1e logits %.1e%n", size, pool3, spatial, logits);
            assertTrue(pool3 < TOLERANCE, "pool3 rel L2 " + pool3);
            assertTrue(spatial < TOLERANCE, "spatial rel L2 " + spatial);
            assertTrue(logits < TOLERANCE, "logits rel L2 " + logits);
            // floats in [0, 1] [N, 3, H, W] give the same features as the uint8 images they come from
            Tensor floats = ref.tensors().get("x").permute(0, 3, 1, 2).to(DType.FLOAT32).div(255.0);
            assertTrue(Fixtures.relativeL2(net.features(floats).pool3(), f.pool3()) < 1e-6);
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }

    @Test
    void refusesOtherWeightsAndImages() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Path other = dir.resolve("other.pth");
            TorchCheckpoint.write(other, Map.of("x_embedder.proj.weight", Tensor.zeros(4, 4)));
            var e = assertThrows(IllegalArgumentException.class, () -> InceptionV3.load(other, Device.CPU));
            assertTrue(e.getMessage().contains("other.pth") && e.getMessage().contains("Inception"), e.getMessage());
            try (InceptionV3 net = InceptionV3.create(Device.CPU)) {
                var bad = assertThrows(IllegalArgumentException.class, () -> net.features(Tensor.zeros(2, 8, 8, 3)));
                assertTrue(bad.getMessage().contains("[2, 8, 8, 3]"), bad.getMessage());
            }
        }
        assertEquals(live, Torch.liveTensors(), "no tensor leaked");
    }
}
