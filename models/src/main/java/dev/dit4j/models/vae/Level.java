package dev.dit4j.models.vae;

import dev.dit4j.nn.Functional;
import dev.dit4j.nn.Module;
import dev.dit4j.nn.ModuleList;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.VarBuilder;
import dev.dit4j.nn.layers.Conv2d;
import java.util.List;

/**
 * One resolution of the encoder ({@code encoder.down.i}) or decoder ({@code decoder.up.i}):
 * residual blocks {@code block.j}, each followed by {@code attn.j} at the levels that have
 * attention, then the change of resolution, if any.
 */
final class Level extends Module {
    /** What follows the blocks: a stride-2 conv after right/bottom zero padding, a nearest 2x upsampling and conv, or nothing. */
    enum Resample { DOWN, UP, NONE }

    private final List<ResnetBlock> blocks;
    private final List<Attention> attentions;
    private final Conv2d resampleConv;
    private final Resample resample;

    Level(VarBuilder vb, int in, int out, int numBlocks, boolean attention, Resample resample, int groups) {
        super(vb);
        this.resample = resample;
        ModuleList<ResnetBlock> blockList = registerModule("block", ModuleList::new);
        ModuleList<Attention> attnList = registerModule("attn", ModuleList::new);
        for (int j = 0; j < numBlocks; j++) {
            int blockIn = j == 0 ? in : out;
            blockList.add(p -> new ResnetBlock(p, blockIn, out, groups));
            if (attention) attnList.add(p -> new Attention(p, out, groups));
        }
        blocks = blockList.items();
        attentions = attnList.items();
        resampleConv = switch (resample) {
            case DOWN -> registerModule("downsample.conv", Conv2d.of(out, out, 3).withStride(2));
            case UP -> registerModule("upsample.conv", Conv2d.of(out, out, 3).samePadding());
            case NONE -> null;
        };
    }

    Tensor forward(Tensor x) {
        try (TensorScope s = TensorScope.open()) {
            Tensor h = x;
            for (int j = 0; j < blocks.size(); j++) {
                h = Chain.step(h, blocks.get(j)::forward, x);
                if (!attentions.isEmpty()) h = Chain.step(h, attentions.get(j)::forward, x);
            }
            return s.keep(switch (resample) {
                case DOWN -> Chain.step(Chain.step(h, Level::padRightBottom, x), resampleConv::forward, x);
                case UP -> Chain.step(Chain.step(h, t -> Functional.interpolate(t, 2 * t.size(2), 2 * t.size(3),
                        Functional.Interpolation.NEAREST, false), x), resampleConv::forward, x);
                case NONE -> h;
            });
        }
    }

    /** Zero padding of one row at the bottom and one column at the right (the reference pads (0, 1, 0, 1)). */
    private static Tensor padRightBottom(Tensor x) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        try (TensorScope s = TensorScope.open()) {
            Tensor padded = Tensor.zeros(new long[] {n, c, h + 1, w + 1}, x.dtype(), x.device());
            padded.narrow(2, 0, h).narrow(3, 0, w).copy_(x);
            return s.keep(padded);
        }
    }
}
