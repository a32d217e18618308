package dev.dit4j.examples.options;

import picocli.CommandLine.Option;

/** {@code --depth}, {@code --hidden}, {@code --patch}: the size of a model a demo builds, with each command's defaults. */
public final class ModelSizeOption {
    @Option(names = "--depth", converter = Numbers.PositiveInt.class,
            description = "transformer blocks (U-ViT: in + out blocks, plus a mid block) (default ${DEFAULT-VALUE})")
    private int depth;

    @Option(names = "--hidden", converter = Numbers.PositiveInt.class, description = "model width (U-DiT: 4x its stage-1 width) (default ${DEFAULT-VALUE})")
    private int hidden;

    @Option(names = "--patch", converter = Numbers.PositiveInt.class, description = "patch size (default ${DEFAULT-VALUE})")
    private int patch;

    public ModelSizeOption(int depth, int hidden, int patch) {
        this.depth = depth;
        this.hidden = hidden;
        this.patch = patch;
    }

    public int depth() {
        return depth;
    }

    public int hidden() {
        return hidden;
    }

    public int patch() {
        return patch;
    }
}
