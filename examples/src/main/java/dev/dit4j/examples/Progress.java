package dev.dit4j.examples;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar for time-budgeted training: the bar fills over the time budget, then
 * step, loss, img/s and time left. On a terminal the line is redrawn in place; piped to a log it
 * prints a line at the first reading, then at most one every 30 s, and the last reading at the end.
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
        latest = line(step, loss, imagesPerSecond, (now - start) / 1e9);
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

    /** m:ss, or h:mm:ss from an hour on. */
    static String minutesSeconds(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
