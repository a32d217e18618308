package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.layers.Gelu;
import dev.dit4j.nn.layers.Mlp;
import org.junit.jupiter.api.Test;

/**
 * The one-op forms (addcmul, linear with GELU-tanh) against the ops they replace, in float32:
 * the outputs and every input's gradient agree to 1e-6 relative L2.
 */
class FusedOpsTest extends TestSupport {

    @Test
    void addcmulIsMultiplyThenAddWithBroadcasting() {
        Tensor x = f32(1, 2, 5, 8), shift = f32(2, 2, 1, 8), scale = f32(3, 2, 1, 8);
        assertSameWithGradients(in -> in.get(1).addcmul(in.get(0), in.get(2).add(1)),
                in -> in.get(0).mul(in.get(2).add(1)).add(in.get(1)), x, shift, scale);
        Tensor gate = f32(4, 2, 1, 8), y = f32(5, 2, 5, 8);
        assertSameWithGradients(in -> in.get(0).addcmul(in.get(1), in.get(2)),
                in -> in.get(0).add(in.get(1).mul(in.get(2))), x, gate, y);
    }

    @Test
    void addcmulGradientMatchesFiniteDifferences() {
        GradCheck.check("addcmul", in -> in.get(0).addcmul(in.get(1), in.get(2)), seeded(6, 3, 1), seeded(7, 3, 4), seeded(8, 1, 4));
    }

    @Test
    void linearGeluTanhIsLinearThenGeluTanh() {
        Tensor x = f32(9, 2, 5, 8), w = f32(10, 6, 8), b = f32(11, 6);
        assertSameWithGradients(in -> Functional.linearGeluTanh(in.get(0), in.get(1), in.get(2)),
                in -> Functional.linear(in.get(0), in.get(1), in.get(2)).gelu(true), x, w, b);
        assertSameWithGradients(in -> Functional.linearGeluTanh(in.get(0), in.get(1), null),
                in -> Functional.linear(in.get(0), in.get(1), null).gelu(true), x, w);
        try (Autograd.GradMode g = Autograd.noGrad()) {
            assertRelativeL2(Functional.linear(x, w, b).gelu(true), Functional.linearGeluTanh(x, w, b), "without gradients");
        }
    }

    @Test
    void tanhMlpEqualsItsLayersAppliedInTurn() {
        try (Generator g = Generator.cpu(3); Mlp mlp = Mlp.of(8, 16).withGelu(Gelu.TANH).build(VarBuilder.init(DType.FLOAT32, Device.CPU, g))) {
            Tensor x = f32(12, 2, 5, 8);
            Tensor composite = Functional.linear(Functional.linear(x, param(mlp, "fc1.weight"), param(mlp, "fc1.bias")).gelu(true),
                            param(mlp, "fc2.weight"), param(mlp, "fc2.bias"));
            assertRelativeL2(composite, mlp.forward(x), "Mlp with GELU-tanh");
        }
    }

    private static Tensor param(Module m, String name) {
        return m.namedParameters().get(name);
    }
}
