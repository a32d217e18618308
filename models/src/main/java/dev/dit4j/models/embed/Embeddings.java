package dev.dit4j.models.embed;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import java.util.List;

/** Fixed sinusoidal tables shared by the diffusion transformers: timestep features and 2-d positions. */
public final class Embeddings {
    private Embeddings() {}

    /**
     * GLIDE-style timestep features: [cos(t f_i) | sin(t f_i)], f_i = exp(-ln(10000) i / half),
     * float32, [N] -> [N, dim] (an odd dim gets a zero column).
     */
    public static Tensor timestep(Tensor t, int dim, double maxPeriod) {
        int half = dim / 2;
        Device device = t.device();
        try (TensorScope s = TensorScope.open()) {
            Tensor freqs = Tensor.arange(0, half, 1, DType.FLOAT32, device).mul(-Math.log(maxPeriod) / half).exp();
            Tensor args = t.to(DType.FLOAT32).unsqueeze(1).mul(freqs.unsqueeze(0));
            Tensor emb = Tensor.cat(List.of(args.cos(), args.sin()), 1);
            if (dim % 2 == 1) emb = Tensor.cat(List.of(emb, Tensor.zeros(new long[] {emb.size(0), 1}, DType.FLOAT32, device)), 1);
            return s.keep(emb);
        }
    }

    /**
     * MAE-style 2-d sin-cos position table for a grid x grid token map, [grid*grid, dim] float32:
     * the first half encodes the column, the second the row; each half is [sin | cos]. Computed
     * in float64 as the reference does. {@code scale} divides the coordinates (MicroDiT's interpolation).
     */
    public static Tensor sincos2d(int dim, int grid, double coordinateScale) {
        if (dim % 4 != 0) throw new IllegalArgumentException("2-d sin-cos table needs dim % 4 == 0, got " + dim);
        int quarter = dim / 4;
        double[] omega = new double[quarter];
        for (int j = 0; j < quarter; j++) omega[j] = 1.0 / Math.pow(10000, j / (double) quarter);
        float[] table = new float[grid * grid * dim];
        for (int r = 0; r < grid; r++) {
            for (int c = 0; c < grid; c++) {
                int base = (r * grid + c) * dim;
                double col = (float) c / (float) coordinateScale, row = (float) r / (float) coordinateScale; // float32 grid, as np.arange(float32)
                for (int j = 0; j < quarter; j++) {
                    table[base + j] = (float) Math.sin(col * omega[j]);
                    table[base + quarter + j] = (float) Math.cos(col * omega[j]);
                    table[base + 2 * quarter + j] = (float) Math.sin(row * omega[j]);
                    table[base + 3 * quarter + j] = (float) Math.cos(row * omega[j]);
                }
            }
        }
        return Tensor.of(table, (long) grid * grid, dim);
    }
}
