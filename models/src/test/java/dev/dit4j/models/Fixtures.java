package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the reference fixtures written by src/test/python/make_dit_fixtures.py. */
final class Fixtures {
    private Fixtures() {}

    static Safetensors.Contents load(String name) {
        try {
            return Safetensors.read(Path.of(Fixtures.class.getResource("/fixtures/" + name).toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The weights the fixture script drew: torch.randn in state-dict order from a CPU generator
     * seeded {@code seed}, times {@code std}. Checked against the sums the script recorded, so a
     * different random stream is reported as such rather than as a model mismatch.
     */
    static Map<String, Tensor> seededWeights(List<String> keys, Map<String, long[]> shapes, long seed, double std, Tensor sums) {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        double[] expected = sums.toDoubleArray();
        try (Generator g = Generator.cpu(seed)) {
            for (int i = 0; i < keys.size(); i++) {
                long[] shape = shapes.get(keys.get(i));
                if (shape == null) throw new AssertionError("the model has no parameter '" + keys.get(i) + "' of the reference");
                Tensor w;
                try (Tensor r = Tensor.randn(shape, DType.FLOAT32, Device.CPU, g)) {
                    w = TensorScope.release(r.mul(std));
                }
                double sum = w.to(DType.FLOAT64).sum().item();
                assertEquals(expected[i], sum, 1e-9 * Math.max(1, Math.abs(expected[i])),
                        "seeded weights for " + keys.get(i) + " differ from the reference's random stream");
                weights.put(keys.get(i), w);
            }
        }
        return weights;
    }

    /**
     * Loads the fixture's seeded weights into {@code model} after checking that its state-dict keys
     * and their order are the reference's (metadata "keys", "weight_seed", "weight_std").
     */
    static void loadSeeded(dev.dit4j.nn.Module model, Map<String, String> meta, Tensor sums) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> shapes.put(k, v.shape()));
        List<String> keys = List.of(meta.get("keys").split(","));
        assertEquals(keys, List.copyOf(shapes.keySet()), "state-dict keys and their order match the reference");
        Map<String, Tensor> weights = seededWeights(keys, shapes, Long.parseLong(meta.get("weight_seed")),
                Double.parseDouble(meta.get("weight_std")), sums);
        model.loadStateDict(weights);
        weights.values().forEach(Tensor::close);
    }

    /** ||a - b|| / ||b||. */
    /** The authors' forward_with_cfg through {@link DiffusionModel#guided}: x [2N] whose halves share noise, labels [y; null] of which the first half is read. */
    static Tensor guidedDoubled(DiffusionModel<?> model, Tensor x, Tensor t, Tensor labels, double scale) {
        Conditioning c = Conditioning.labels(labels.narrow(0, 0, labels.size(0) / 2), model.config().numClasses());
        return model.guided(c, scale).doubled().apply(x, t);
    }

    static double relativeL2(Tensor actual, Tensor expected) {
        try (TensorScope s = TensorScope.open()) {
            Tensor a = actual.to(DType.FLOAT64);
            Tensor b = expected.to(DType.FLOAT64);
            assertTrue(java.util.Arrays.equals(a.shape(), b.shape()),
                    "shape " + java.util.Arrays.toString(a.shape()) + " vs " + java.util.Arrays.toString(b.shape()));
            return a.sub(b).norm(2, null, false).item() / b.norm(2, null, false).item();
        }
    }
}
