package dev.dit4j.examples;

/** A one-line progress bar for time-budgeted training: step, loss, throughput, time left. */
final class Progress {
    private final double budgetSeconds;
    private final long start = System.nanoTime();
    private final boolean interactive = System.console() != null;
    private long lastPrint;

    Progress(double budgetSeconds) {
        this.budgetSeconds = budgetSeconds;
    }

    void update(long step, double loss, double imagesPerSecond) {
        double elapsed = (System.nanoTime() - start) / 1e9;
        int width = 30;
        int filled = (int) Math.min(width, width * elapsed / budgetSeconds);
        String line = String.format("[%s%s] step %6d  loss %.4f  %6.0f img/s  %4.0f s left", "#".repeat(filled),
                " ".repeat(width - filled), step, loss, imagesPerSecond, Math.max(0, budgetSeconds - elapsed));
        if (interactive) {
            System.out.print("\r" + line);
        } else if (System.nanoTime() - lastPrint > 30e9) { // logs get a line every 30 s, not a stream of updates
            System.out.println(line);
            lastPrint = System.nanoTime();
        }
    }

    void done() {
        if (interactive) System.out.println();
    }
}
