package dev.dit4j.models.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.pipeline.SampleRequest;
import dev.dit4j.models.text.CaptionFile;
import dev.dit4j.models.text.ClipVocabulary;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.io.InputFiles;
import dev.dit4j.nn.io.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * User files built to hang, exhaust or silently mislead the readers of captions, manifests,
 * vocabularies, images, configurations and settings, generated here (no blobs). Each must end
 * within seconds in a one-line error naming the file, or be read correctly when legitimate. A
 * separate thread, so that a reader blocked in open() still fails the test.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HostileInputsTest {
    @TempDir
    Path dir;

    private static String refused(Executable reader, Path file, String... words) {
        Throwable e = assertThrows(RuntimeException.class, reader);
        String m = e.getMessage();
        assertNotNull(m);
        assertFalse(m.contains("\n"), "one line: " + m);
        assertTrue(m.contains(file.toString()), "names " + file + ": " + m);
        for (String w : words) assertTrue(m.contains(w), "mentions '" + w + "': " + m);
        assertTrue(m.length() < 600, "short: " + m);
        return m;
    }

    private Path fifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo is available");
        return fifo;
    }

    // ---- special files: refused before they are opened -----------------------------------------

    @Test
    void fifosAreRefusedByEveryReader() throws Exception {
        Path captions = fifo("captions.txt");
        refused(() -> CaptionFile.read(captions), captions, "FIFO", "not a regular file");
        Path gz = fifo("vocab.txt.gz");
        refused(() -> ClipVocabulary.open(gz), gz, "FIFO");
        Path json = fifo("vocab.json");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
        refused(() -> ClipVocabulary.open(json), json, "FIFO");
        Path manifest = fifo("m.csv");
        refused(() -> CaptionedImages.open(manifest, 8), manifest, "FIFO");
        Path jsonl = fifo("m.jsonl");
        refused(() -> CaptionedImages.open(jsonl, 8), jsonl, "FIFO");
        Path png = fifo("a.png");
        refused(() -> ImageFolder.decode(png), png, "FIFO");
        Path settings = fifo("settings.txt");
        refused(() -> RunSettings.check(settings, Map.of("a", "1")), settings, "FIFO");
        refused(() -> CaptionFile.read(dir), dir, "directory");
    }

    // ---- sizes: files, lines, decompressed content, pixels -------------------------------------

    @Test
    void aHugeLineIsRefusedWithoutHoldingIt() throws IOException {
        Path captions = dir.resolve("long.txt");
        Files.writeString(captions, "a cat\n" + "x".repeat(InputFiles.MAX_LINE_CHARS + 1) + "\n");
        refused(() -> CaptionFile.read(captions), captions, "line 2", "longer than");

        // a gzip vocabulary whose second line is 64 MB of one byte: a few dozen KB on disk
        Path gz = dir.resolve("bomb.txt.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz), 1 << 16)) {
            out.write("#version\n".getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[1 << 20];
            java.util.Arrays.fill(chunk, (byte) 'a');
            for (int i = 0; i < 64; i++) out.write(chunk);
        }
        assertTrue(Files.size(gz) < 1 << 20);
        refused(() -> ClipVocabulary.open(gz), gz, "line 2", "longer than");
    }

    @Test
    void gzipContentIsBoundedAsItInflates() throws IOException {
        Path gz = dir.resolve("lines.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            for (int i = 0; i < 1 << 16; i++) out.write("ab cd\n".getBytes(StandardCharsets.US_ASCII));
        }
        Executable read = () -> {
            try (var in = InputFiles.openGzip(gz, "token file", 1 << 20, 1 << 16)) {
                InputFiles.readLines(in, gz, "token file", Integer.MAX_VALUE, 100);
            }
        };
        refused(read, gz, "decompresses to more than 64.0 KiB");
        Path big = dir.resolve("big.gz");
        Files.write(big, new byte[2 << 20]);
        refused(() -> InputFiles.openGzip(big, "token file", 1 << 20, 1 << 30), big, "too large");
    }

    @Test
    void emptyAndDamagedVocabulariesSayWhat() throws IOException {
        Path empty = Files.write(dir.resolve("empty.txt.gz"), new byte[0]);
        refused(() -> ClipVocabulary.open(empty), empty, "empty");
        Path emptyGzip = dir.resolve("emptyContent.txt.gz");
        new GZIPOutputStream(Files.newOutputStream(emptyGzip)).close();
        refused(() -> ClipVocabulary.open(emptyGzip), emptyGzip, "empty");
        Path notGzip = Files.writeString(dir.resolve("plain.txt.gz"), "#version\na b\n");
        refused(() -> ClipVocabulary.open(notGzip), notGzip, "gzip");
        Path sub = Files.createDirectories(dir.resolve("hf"));
        Path vocab = Files.writeString(sub.resolve("vocab.json"), "");
        Files.writeString(sub.resolve("merges.txt"), "#version: 0.2\n");
        refused(() -> ClipVocabulary.open(vocab), vocab, "empty");
        Files.writeString(vocab, "[1, 2]");
        refused(() -> ClipVocabulary.open(vocab), vocab, "not a JSON object");
    }

    /** A valid grey PNG of width x height whose rows are all zero: a few dozen KB on disk per 10^8 pixels. */
    static void bombPng(Path file, int width, int height) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat, new Deflater(9), 1 << 16)) {
            byte[] row = new byte[1 + (width + 7) / 8]; // filter byte, then 1-bit pixels
            for (int y = 0; y < height; y++) z.write(row);
        }
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(file))) {
            out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
            ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
            DataOutputStream h = new DataOutputStream(ihdr);
            h.writeInt(width);
            h.writeInt(height);
            h.write(new byte[] {1, 0, 0, 0, 0}); // 1-bit grey, deflate, adaptive filtering, no interlace
            chunk(out, "IHDR", ihdr.toByteArray());
            chunk(out, "IDAT", idat.toByteArray());
            chunk(out, "IEND", new byte[0]);
        }
    }

    private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        out.writeInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }

    @Test
    void aDecompressionBombImageIsRefusedFromItsHeader() throws IOException {
        Path root = dir.resolve("images");
        Path png = Files.createDirectories(root.resolve("cls")).resolve("bomb.png");
        bombPng(png, 20000, 20000);
        assertTrue(Files.size(png) < 2 << 20, "small on disk: " + Files.size(png));
        ImageFolder images = ImageFolder.open(root, 8);
        long start = System.nanoTime();
        refused(() -> images.readImage(0, new float[3 * 8 * 8]), png, "20000x20000", "400,000,000 pixels", "DIT4J_MAX_IMAGE_PIXELS");
        assertTrue(System.nanoTime() - start < 5e9, "refused before decoding");
    }

    @Test
    void thePixelLimitIsConfigurable() throws IOException {
        Path png = dir.resolve("small.png");
        bombPng(png, 40, 30);
        String old = System.getProperty("dit4j.maxImagePixels");
        try {
            System.setProperty("dit4j.maxImagePixels", "1000");
            refused(() -> ImageFolder.decode(png), png, "40x30", "1,200 pixels", "limit of 1,000");
            System.setProperty("dit4j.maxImagePixels", "1200");
            assertEquals(40, ImageFolder.decode(png).getWidth()); // at the limit: read, with a warning
            System.setProperty("dit4j.maxImagePixels", "lots");
            Exception e = assertThrows(IllegalArgumentException.class, () -> ImageFolder.decode(png));
            assertTrue(e.getMessage().contains("dit4j.maxImagePixels"), e.getMessage());
        } finally {
            if (old == null) System.clearProperty("dit4j.maxImagePixels");
            else System.setProperty("dit4j.maxImagePixels", old);
        }
    }

    // ---- folders ---------------------------------------------------------------------------------

    @Test
    void aSymlinkLoopIsOneLineNamingTheFolder() throws IOException {
        Path root = dir.resolve("loop");
        Path cls = Files.createDirectories(root.resolve("cls"));
        bombPng(cls.resolve("a.png"), 4, 4);
        Files.createSymbolicLink(cls.resolve("again"), cls);
        refused(() -> ImageFolder.open(root, 8), cls, "symbolic link loop");
        Files.writeString(cls.resolve("a.txt"), "a caption\n");
        refused(() -> CaptionedImages.open(root, 8), root, "symbolic link loop");
    }

    // ---- manifests and captions --------------------------------------------------------------------

    @Test
    void csvQuotesMustBeClosedAndWhole() throws IOException {
        bombPng(dir.resolve("a.png"), 4, 4);
        bombPng(dir.resolve("b.png"), 4, 4);
        Path csv = dir.resolve("m.csv");
        Files.writeString(csv, "file,caption\na.png,\"a cat\nb.png,a dog\n");
        refused(() -> CaptionedImages.open(csv, 8), csv, "line 2", "never closed");
        Files.writeString(csv, "file,caption\na.png,a \"big\" cat\n");
        refused(() -> CaptionedImages.open(csv, 8), csv, "line 2", "quote inside an unquoted field");
        Files.writeString(csv, "file,caption\na.png,\"a cat\" sat\n");
        refused(() -> CaptionedImages.open(csv, 8), csv, "line 2", "after a quoted field's closing quote");
        Files.writeString(csv, "file,caption\na.png,\"a \"\"big\"\",\nfat cat\"\nb.png,dog\n");
        CaptionedImages ok = CaptionedImages.open(csv, 8);
        assertEquals(List.of("a \"big\",\nfat cat"), ok.captions(0));
        assertEquals(List.of("dog"), ok.captions(1));
    }

    // ---- settings ------------------------------------------------------------------------------------

    @Test
    void aDamagedSettingsFileSaysSo() throws IOException {
        Path settings = dir.resolve("settings.txt");
        Map<String, String> now = Map.of("autocast", "none", "batch", "8");
        RunSettings.check(settings, now);
        RunSettings.check(settings, now);
        Files.write(settings, new byte[] {0, 1, 2, 3});
        refused(() -> RunSettings.check(settings, now), settings, "line 1", "damaged");
        Files.writeString(settings, "");
        refused(() -> RunSettings.check(settings, now), settings, "damaged", "autocast, batch");
        Files.write(settings, new byte[] {(byte) 0xFF, '\n'});
        refused(() -> RunSettings.check(settings, now), settings, "not valid UTF-8");
    }

    // ---- autoencoder config.json: no silent defaults -------------------------------------------------

    @Test
    void aBrokenConfigBesideAutoencoderWeightsIsAnErrorNamingTheField() throws Exception {
        Path weights = dir.resolve("vae.safetensors");
        AutoencoderKL.Config small = AutoencoderKL.SD.withChannels(32).withChannelMult(List.of(1, 2)).withNumResBlocks(1).withNormGroups(8);
        try (AutoencoderKL vae = small.create(Device.CPU, 1)) {
            Safetensors.save(weights, vae.stateDict());
        }
        Path json = dir.resolve("config.json");
        assertEquals(32, AutoencoderKL.Config.inferFrom(weights).normGroups(), "no config.json: the defaults");
        Files.writeString(json, "{\"norm_num_groups\": 8, \"scaling_factor\": 0.5}");
        assertEquals(8, AutoencoderKL.Config.inferFrom(weights).normGroups());
        assertEquals(0.5, AutoencoderKL.Config.inferFrom(weights).scalingFactor());

        Files.writeString(json, "not json {");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "JSON");
        Files.writeString(json, "");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "empty");
        Files.writeString(json, "{\"norm_num_groups\": \"8\"}");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "norm_num_groups", "number", "'\"8\"'");
        Files.writeString(json, "{\"scaling_factor\": \"abc\"}");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "scaling_factor", "number");
        Files.writeString(json, "{\"norm_num_groups\": 1e400}");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "norm_num_groups", "1e400");
        Files.writeString(json, "{\"norm_num_groups\": 8.5}");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "norm_num_groups", "whole");
        Files.writeString(json, "{\"scaling_factor\": 1e400}");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "scaling_factor", "finite");
        Files.delete(json);
        Files.createDirectory(json);
        refused(() -> AutoencoderKL.Config.inferFrom(weights), json, "directory");
        Files.delete(json);
        Path fifo = fifo("config.json");
        refused(() -> AutoencoderKL.Config.inferFrom(weights), fifo, "FIFO");
    }

    // ---- counts -------------------------------------------------------------------------------------

    @Test
    void theLargestCountHasItsBatches() {
        SampleRequest r = SampleRequest.of(Integer.MAX_VALUE);
        assertEquals(268_435_456, r.batches());
        int last = r.batches() - 1;
        assertEquals(Integer.MAX_VALUE - 7, r.first(last));
        assertEquals(7, r.size(last));
        assertEquals(8, r.size(0));
        SampleRequest one = SampleRequest.of(Integer.MAX_VALUE).withBatch(Integer.MAX_VALUE);
        assertEquals(1, one.batches());
        assertEquals(Integer.MAX_VALUE, one.size(0));
    }
}
