package dev.dit4j.examples;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar, for time-budgeted training (the bar fills over the time budget, then
 * step, loss, img/s and time left) or for a count of items ({@link #ofCount}: the bar fills over
 * the count, then done/total, items/s and the time left at that rate). On a terminal the line is
 * redrawn in place; piped to a log it prints a line at the first reading, then at most one every
 * 30 s, and the last reading at the end.
 */
final class Progress {
    private static final long LOG_INTERVAL_NANOS = 30_000_000_000L;
    private static final int BAR_WIDTH = 20; // keeps the line under 80 columns: a wrapped line cannot be redrawn

    private final double budgetSeconds;
    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier nanoClock;
    private final long start;
    private String latest;
    private boolean latestLogged;
    private long lastLogged;
    private int drawnLength;

    Progress(double budgetSeconds) {
        this(budgetSeconds, System.out, stdoutIsTerminal(), System::nanoTime);
    }

    /** Progress over {@code total} items (images, files), named {@code unit} in the line. */
    static Progress ofCount(long total, String unit) {
        return ofCount(total, unit, System.out, stdoutIsTerminal(), System::nanoTime);
    }

    static Progress ofCount(long total, String unit, PrintStream out, boolean terminal, LongSupplier nanoClock) {
        Progress p = new Progress(0, out, terminal, nanoClock);
        p.total = total;
        p.unit = unit;
        return p;
    }

    private long total = -1;
    private String unit;
    private long firstDone = -1;
    private long firstDoneAt;

    Progress(double budgetSeconds, PrintStream out, boolean terminal, LongSupplier nanoClock) {
        this.budgetSeconds = budgetSeconds;
        this.out = out;
        this.terminal = terminal;
        this.nanoClock = nanoClock;
        this.start = nanoClock.getAsLong();
        this.lastLogged = start - LOG_INTERVAL_NANOS; // the first reading is logged at once
    }

    /** Since JDK 22 System.console() may exist with output redirected, so ask it whether it is a terminal. */
    private static boolean stdoutIsTerminal() {
        Console console = System.console();
        return console != null && console.isTerminal();
    }

    void update(long step, double loss, double imagesPerSecond) {
        long now = nanoClock.getAsLong();
        show(line(step, loss, imagesPerSecond, (now - start) / 1e9), now);
    }

    /**
     * {@code done} of the total items are finished. The rate, and so the time left, counts the
     * items done since the first reading, so call this once before the work starts (a resumed run
     * starts with some done already).
     */
    void at(long done) {
        if (total < 0) throw new IllegalStateException("not a count progress: use update(step, loss, img/s)");
        long now = nanoClock.getAsLong();
        if (firstDone < 0) {
            firstDone = done;
            firstDoneAt = now;
        }
        double seconds = (now - firstDoneAt) / 1e9;
        double rate = seconds > 0 ? (done - firstDone) / seconds : 0;
        int filled = (int) (total == 0 ? BAR_WIDTH : Math.min(BAR_WIDTH, BAR_WIDTH * done / total));
        String left = rate > 0 ? minutesSeconds((total - done) / rate) : "?";
        show(String.format(Locale.ROOT, "[%s%s] %d/%d %s  %.2f %s/s  %s left", "#".repeat(filled), " ".repeat(BAR_WIDTH - filled),
                done, total, unit, rate, unit, left), now);
    }

    private void show(String line, long now) {
        latest = line;
        if (terminal) {
            // Pads over the rest of a longer previous line.
            out.print("\r" + latest + " ".repeat(Math.max(0, drawnLength - latest.length())));
            out.flush();
            drawnLength = latest.length();
            return;
        }
        latestLogged = now - lastLogged >= LOG_INTERVAL_NANOS; // a log gets a line every 30 s, not a stream of updates
        if (latestLogged) {
            out.println(latest);
            lastLogged = now;
        }
    }

    /** A line of its own amid the bar's (an evaluation's result): on a terminal it replaces the bar, which is drawn again below it. */
    void note(String line) {
        if (terminal && latest != null) {
            out.print("\r" + line + " ".repeat(Math.max(0, drawnLength - line.length())) + "\n" + latest);
            drawnLength = latest.length();
            out.flush();
        } else {
            out.println(line);
        }
    }

    /** Ends the bar: a terminal moves to the next line; a log gets the last reading unless it already has it. */
    void done() {
        if (latest == null) return;
        if (terminal) out.println();
        else if (!latestLogged) out.println(latest);
    }

    private String line(long step, double loss, double imagesPerSecond, double elapsedSeconds) {
        int filled = (int) Math.min(BAR_WIDTH, BAR_WIDTH * elapsedSeconds / budgetSeconds);
        return String.format(Locale.ROOT, "[%s%s] step %6d  loss %.4f  %5.0f img/s  %s left", "#".repeat(filled),
                " ".repeat(BAR_WIDTH - filled), step, loss, imagesPerSecond, minutesSeconds(Math.max(0, budgetSeconds - elapsedSeconds)));
    }

    /** Seconds since {@code nanoTime}, a reading of {@link System#nanoTime()}. */
    static double secondsSince(long nanoTime) {
        return (System.nanoTime() - nanoTime) / 1e9;
    }

    /** m:ss, or h:mm:ss from an hour on. */
    static String minutesSeconds(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
