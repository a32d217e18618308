package dev.dit4j.examples.options;

import picocli.CommandLine.Option;

/** {@code --model}: a model preset by name, as {@link dev.dit4j.models.family.ModelFamily} knows them. */
public final class PresetOption {
    @Option(names = "--model", required = true, description = "preset, e.g. DiT-XL/2, imagenet256_uvit_huge, U-DiT-B")
    private String model;

    public String name() {
        return model;
    }
}
