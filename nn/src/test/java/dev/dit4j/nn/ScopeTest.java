package dev.dit4j.nn;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ScopeTest {
    @Test
    void scopeClosesWhatItOwnsExceptKeptTensors() {
        long live = Torch.liveTensors();
        Tensor kept;
        Tensor temp;
        try (TensorScope s = TensorScope.open()) {
            temp = Tensor.ones(3).mul(2);
            kept = s.keep(temp.add(1));
        }
        assertTrue(temp.isClosed());
        assertFalse(kept.isClosed());
        assertArrayEquals(new float[] {3, 3, 3}, kept.toFloatArray());
        kept.close();
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void keepMovesATensorToTheEnclosingScope() {
        long live = Torch.liveTensors();
        Tensor t;
        try (TensorScope outer = TensorScope.open()) {
            try (TensorScope inner = TensorScope.open()) {
                t = inner.keep(Tensor.zeros(2));
            }
            assertFalse(t.isClosed(), "kept tensors survive the inner scope");
        }
        assertTrue(t.isClosed(), "and are closed by the outer one");
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void closingATensorEarlyIsFine() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Tensor t = Tensor.ones(2);
            t.close();
            Tensor u = Tensor.ones(2);
            TensorScope.release(u);
            u.close();
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void tensorsOutsideAnyScopeBelongToTheCaller() {
        long live = Torch.liveTensors();
        Tensor t = Tensor.ones(2);
        assertEquals(live + 1, Torch.liveTensors());
        t.close();
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void scopesAreThreadConfined() throws Exception {
        TensorScope s = TensorScope.open();
        Tensor t = Tensor.ones(1);
        Thread other = new Thread(() -> assertThrows(IllegalStateException.class, s::close));
        other.start();
        other.join();
        s.close();
        assertTrue(t.isClosed());
    }

    @Test
    void gradModeRestores() {
        assertTrue(Autograd.isGradEnabled());
        try (var g = Autograd.noGrad()) {
            assertFalse(Autograd.isGradEnabled());
            try (var e = Autograd.enableGrad()) {
                assertTrue(Autograd.isGradEnabled());
            }
            assertFalse(Autograd.isGradEnabled());
            try (TensorScope s = TensorScope.open()) {
                Tensor x = Tensor.ones(2).requiresGrad(true);
                assertFalse(x.mul(2).requiresGrad(), "no graph is recorded under noGrad");
            }
        }
        assertTrue(Autograd.isGradEnabled());
    }
}
