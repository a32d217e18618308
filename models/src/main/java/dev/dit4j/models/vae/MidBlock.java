package dev.dit4j.models.vae;

import dev.dit4j.nn.Module;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;

/** The lowest resolution's residual block, attention, residual block ({@code mid.block_1, attn_1, block_2}). */
final class MidBlock extends Module {
    private final ResnetBlock block1, block2;
    private final Attention attn;

    MidBlock(VarBuilder vb, int channels, int groups) {
        super(vb);
        block1 = registerModule("block_1", p -> new ResnetBlock(p, channels, channels, groups));
        attn = registerModule("attn_1", p -> new Attention(p, channels, groups));
        block2 = registerModule("block_2", p -> new ResnetBlock(p, channels, channels, groups));
    }

    Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor h = Chain.step(block1.forward(x), attn::forward, x);
            return s.keep(Chain.step(h, block2::forward, x));
        }
    }
}
