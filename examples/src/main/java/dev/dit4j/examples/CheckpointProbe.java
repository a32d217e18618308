package dev.dit4j.examples;

import dev.dit4j.models.Presets;
import dev.dit4j.models.Weights;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a weights file says about the model it holds, read from a few tensor shapes before the
 * model is built: the architecture (by its own key names), the input channels, and the latent
 * side its position table is sized for. Lets {@code sample} refuse the checkpoint of another
 * model, or of another resolution, with a message that says what the file is.
 *
 * @param family   the architecture, or null when the file holds none of the three
 * @param channels input channels of the stem, or -1 when unknown
 * @param side     latent height = width of the position table, or -1 (U-DiT has none)
 */
record CheckpointProbe(Presets.Family family, long channels, long side) {
    static CheckpointProbe of(Path weights) {
        try (WeightSource w = Weights.open(weights)) {
            return of(w);
        }
    }

    /** Reads shapes only, so {@code w} can then build the model (a .pt file is read once). */
    static CheckpointProbe of(WeightSource w) {
        long[] stem = w.shape("x_embedder.proj.weight");
        long[] positions = w.shape("pos_embed");
        if (w.shape("t_embedder_1.mlp.0.weight") != null && stem != null) return new CheckpointProbe(Presets.Family.UDIT, stem[1], -1);
        if (w.shape("mask_token") != null && stem != null && stem.length == 4) { // MicroDiT: DiT's stem, plus the un-masking token
            return new CheckpointProbe(Presets.Family.MICRODIT, stem[1], side(positions, 0, stem[3]));
        }
        if (stem != null && stem.length == 4) return new CheckpointProbe(Presets.Family.DIT, stem[1], side(positions, 0, stem[3]));
        long[] uvitStem = w.shape("patch_embed.proj.weight");
        if (uvitStem != null && uvitStem.length == 4) {
            long[] context = w.shape("context_embed.weight");
            long extras = w.keys().contains("label_emb.weight") ? 2 : context != null ? -1 : 1; // text: 1 + tokens, unknown here
            return new CheckpointProbe(Presets.Family.UVIT, uvitStem[1], extras < 0 ? -1 : side(positions, extras, uvitStem[3]));
        }
        return new CheckpointProbe(null, -1, -1);
    }

    /** sqrt(tokens - extras) patches of {@code patch}, or -1 when the table is not [1, T, D] with a square T - extras. */
    private static long side(long[] positions, long extras, long patch) {
        if (positions == null || positions.length != 3) return -1;
        long t = positions[1] - extras;
        long s = Math.round(Math.sqrt(t));
        return s * s == t ? s * patch : -1;
    }

    /** Refuses weights of another architecture than {@code preset}'s, naming what the file holds. */
    void requireFamily(String preset, Path weights) {
        Presets.Family wanted = Presets.Family.of(preset);
        if (family == null) {
            throw new IllegalArgumentException("weights " + weights + " hold no DiT, U-ViT or U-DiT model (none of x_embedder.proj.weight, "
                    + "patch_embed.proj.weight): is it an autoencoder or another network?");
        }
        if (family != wanted) {
            throw new IllegalArgumentException("weights " + weights + " hold a " + name(family) + " model, but --model " + preset
                    + " is a " + name(wanted) + " preset: pass a " + name(family) + " preset (" + Presets.names().stream()
                    .filter(n -> Presets.Family.of(n) == family).limit(4).toList() + ", ...)");
        }
    }

    static String name(Presets.Family f) {
        return switch (f) {
            case DIT -> "DiT";
            case UVIT -> "U-ViT";
            case UDIT -> "U-DiT";
            case MICRODIT -> "MicroDiT";
        };
    }

    @Override
    public String toString() {
        return family + " " + Arrays.toString(new long[] {channels, side, side});
    }
}
