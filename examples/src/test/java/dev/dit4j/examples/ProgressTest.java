package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private long now = 1_000_000_000L;

    private Progress progress(double budgetSeconds, boolean terminal) {
        return new Progress(budgetSeconds, new PrintStream(bytes, true, StandardCharsets.UTF_8), terminal, () -> now);
    }

    private void after(double seconds) {
        now += (long) (seconds * 1e9);
    }

    private String printed() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aNoteGetsALineOfItsOwnAndTheBarComesBackBelowIt() {
        Progress log = progress(100, false);
        log.note("step 0: FID 1.00");
        assertEquals(List.of("step 0: FID 1.00"), printed().lines().toList());
        bytes.reset();
        Progress p = progress(100, true);
        after(1);
        p.update(25, 0.9, 1000);
        p.note("step 25: FID 2.00");
        String out = printed();
        assertTrue(out.contains("\rstep 25: FID 2.00"), out);
        String[] parts = out.split("\n");
        assertEquals(2, parts.length, out);
        assertTrue(parts[1].contains("step     25  loss 0.9000"), "the bar is drawn again: " + out);
    }

    @Test
    void aLogGetsTheFirstReadingThenOneLineEvery30SecondsAndTheLastReading() {
        Progress p = progress(100, false);
        after(1);
        p.update(25, 0.9, 1000);
        after(10);
        p.update(50, 0.8, 1000); // within 30 s of the last line: not logged
        after(25);
        p.update(75, 0.7, 1000); // 35 s after the first line
        after(5);
        p.update(100, 0.6, 1000);
        p.done();
        List<String> lines = printed().lines().toList();
        assertEquals(3, lines.size(), printed());
        assertTrue(lines.get(0).contains("step     25  loss 0.9000"), lines.get(0));
        assertTrue(lines.get(1).contains("step     75  loss 0.7000"), lines.get(1));
        assertTrue(lines.get(2).contains("step    100  loss 0.6000"), "the final reading ends the log: " + lines.get(2));
        assertFalse(printed().contains("\r"), "no carriage returns in a log file");
    }

    @Test
    void aLogDoesNotRepeatALastReadingItAlreadyHas() {
        Progress p = progress(100, false);
        p.update(25, 0.9, 1000);
        p.done();
        assertEquals(1, printed().lines().count(), printed());
    }

    @Test
    void nothingIsPrintedWithoutReadings() {
        progress(10, false).done();
        progress(10, true).done();
        assertEquals("", printed());
    }

    @Test
    void aTerminalLineShowsBarStepLossRateAndTimeLeftAndIsRedrawnInPlace() {
        Progress p = progress(100, true);
        after(25);
        p.update(100, 0.12345, 2048);
        assertEquals("\r[#####               ] step    100  loss 0.1235   2048 img/s  1:15 left", printed());
        after(75);
        p.update(400, 0.05, 2000);
        p.done();
        String last = printed().substring(printed().lastIndexOf('\r') + 1);
        assertEquals("[####################] step    400  loss 0.0500   2000 img/s  0:00 left\n", last.replace(System.lineSeparator(), "\n"));
        assertTrue(last.length() < 80, "a wrapped line could not be redrawn in an 80-column terminal");
    }

    @Test
    void aShorterLinePadsOverTheLongerOneBeforeIt() {
        Progress p = progress(100, true);
        p.update(1, 0.5, 99999);
        p.update(2, Double.NaN, 1);
        String[] draws = printed().split("\r");
        assertEquals(draws[1].length(), draws[2].length(), "the second draw covers all of the first");
    }

    @Test
    void timeLeftReadsAsMinutesAndSeconds() {
        assertEquals("0:00", Progress.minutesSeconds(0));
        assertEquals("0:59", Progress.minutesSeconds(59.4));
        assertEquals("11:00", Progress.minutesSeconds(660));
        assertEquals("1:00:01", Progress.minutesSeconds(3601));
    }

    @Test
    void aCountShowsItsRateAndTimeLeftFromTheItemsDoneInThisRun() {
        Progress p = Progress.ofCount(100, "images", new PrintStream(bytes, true, StandardCharsets.UTF_8), true, () -> now);
        p.at(40); // resumed with 40 done: they do not count towards the rate
        assertTrue(printed().endsWith("40/100 images  0.00 images/s  ? left"), printed());
        after(10);
        p.at(60);
        assertEquals("[############        ] 60/100 images  2.00 images/s  0:20 left", printed().substring(printed().lastIndexOf('\r') + 1).strip());
        p.done();
        assertThrows(IllegalStateException.class, () -> progress(10, true).at(1), "a time-budget bar has no count");
    }
}
