package dev.dit4j.models.diffusion;

/** torch.linspace in double, element for element: the first half counts up from start, the second down from end. */
public final class Linspace {
    private Linspace() {}

    public static double[] of(double start, double end, int steps) {
        if (steps < 1) throw new IllegalArgumentException("linspace needs at least 1 point, got " + steps);
        double[] r = new double[steps];
        if (steps == 1) {
            r[0] = start;
            return r;
        }
        double step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) r[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
        return r;
    }
}
