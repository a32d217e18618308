package dev.dit4j.models.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.dit4j.models.text.CaptionFile;
import dev.dit4j.nn.io.InputFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Images with captions, for text-to-image training: a folder of PNG/JPEG images (at any depth)
 * each with a same-stem {@code .txt} beside it (one caption per line), or a manifest of file and
 * caption: JSON lines ({@code {"file": ..., "caption": ...}}; also "image"/"path" and
 * "text"/"captions") or CSV with a header naming those columns. Manifest paths are relative to
 * the manifest's folder; an image listed on several rows gets all their captions. Images are read
 * as {@link ImageFolder} reads them (ADM's center crop to {@code size}); each image may have
 * several captions, of which {@link #caption} draws one per epoch.
 */
public final class CaptionedImages implements Dataset {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

    private final int size;
    private final List<Path> files;
    private final List<List<String>> captions;

    private CaptionedImages(int size, List<Path> files, List<List<String>> captions) {
        this.size = size;
        this.files = files;
        this.captions = captions;
    }

    /** A folder with same-stem .txt captions, or a .jsonl / .csv manifest. */
    public static CaptionedImages open(Path source, int size) {
        if (size < 1) throw new IllegalArgumentException("image size must be >= 1, got " + size);
        Map<Path, List<String>> byFile;
        if (Files.isDirectory(source)) byFile = folder(source);
        else if (source.toString().toLowerCase(Locale.ROOT).endsWith(".jsonl")) byFile = jsonLines(source);
        else if (source.toString().toLowerCase(Locale.ROOT).endsWith(".csv")) byFile = csv(source);
        else throw new IllegalArgumentException(source + " is neither a folder of images with .txt captions nor a .jsonl or .csv manifest");
        if (byFile.isEmpty()) throw new IllegalArgumentException(source + " lists no captioned images");
        List<Path> files = new ArrayList<>();
        List<List<String>> captions = new ArrayList<>();
        byFile.forEach((f, c) -> {
            if (c.isEmpty()) throw new IllegalArgumentException("image " + f + " has no caption (its caption file is empty)");
            files.add(f);
            captions.add(List.copyOf(c));
        });
        return new CaptionedImages(size, List.copyOf(files), List.copyOf(captions));
    }

    private static Map<Path, List<String>> folder(Path root) {
        Map<Path, List<String>> out = new LinkedHashMap<>();
        List<Path> images = InputFiles.walk(root, "image folder", CaptionedImages::isImage);
        List<String> uncaptioned = new ArrayList<>();
        for (Path image : images) {
            String name = image.getFileName().toString();
            Path txt = image.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".txt");
            if (!Files.isRegularFile(txt)) {
                uncaptioned.add(root.relativize(image).toString());
                continue;
            }
            out.put(image, CaptionFile.read(txt).stream().filter(c -> !c.isBlank()).toList());
        }
        if (!uncaptioned.isEmpty()) {
            throw new IllegalArgumentException(root + ": " + uncaptioned.size() + " images have no same-stem .txt caption file, e.g. "
                    + uncaptioned.subList(0, Math.min(3, uncaptioned.size())));
        }
        return out;
    }

    private static Map<Path, List<String>> jsonLines(Path manifest) {
        Map<Path, List<String>> out = new LinkedHashMap<>();
        List<String> lines = CaptionFile.read(manifest, "manifest");
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            JsonObject row;
            try {
                JsonElement e = JsonParser.parseString(line);
                if (!e.isJsonObject()) throw new JsonParseException("not an object");
                row = e.getAsJsonObject();
            } catch (JsonParseException e) {
                throw new IllegalArgumentException("manifest " + manifest + ", line " + (i + 1) + ": not a JSON object (" + e.getMessage() + ")");
            }
            String file = field(row, manifest, i + 1, "file", "image", "path");
            List<String> texts = new ArrayList<>();
            if (row.get("captions") != null && row.get("captions").isJsonArray()) row.getAsJsonArray("captions").forEach(c -> texts.add(c.getAsString()));
            else texts.add(field(row, manifest, i + 1, "caption", "text"));
            add(out, manifest, i + 1, file, texts);
        }
        return out;
    }

    private static String field(JsonObject row, Path manifest, int line, String... names) {
        for (String n : names) if (row.get(n) != null && row.get(n).isJsonPrimitive()) return row.get(n).getAsString();
        throw new IllegalArgumentException("manifest " + manifest + ", line " + line + ": no " + String.join(" / ", names) + " field");
    }

    private static Map<Path, List<String>> csv(Path manifest) {
        List<List<String>> rows = Csv.parse(String.join("\n", CaptionFile.read(manifest, "manifest")), manifest);
        if (rows.isEmpty()) throw new IllegalArgumentException("manifest " + manifest + " is empty: expected a header row naming file and caption columns");
        List<String> header = rows.get(0).stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).toList();
        int fileCol = column(header, manifest, "file", "image", "path");
        int captionCol = column(header, manifest, "caption", "text");
        Map<Path, List<String>> out = new LinkedHashMap<>();
        for (int r = 1; r < rows.size(); r++) {
            List<String> row = rows.get(r);
            if (row.size() == 1 && row.get(0).isEmpty()) continue;
            if (row.size() <= Math.max(fileCol, captionCol)) {
                throw new IllegalArgumentException("manifest " + manifest + ", row " + (r + 1) + ": " + row.size() + " columns, the header has " + header.size());
            }
            add(out, manifest, r + 1, row.get(fileCol), List.of(row.get(captionCol)));
        }
        return out;
    }

    private static int column(List<String> header, Path manifest, String... names) {
        for (String n : names) if (header.contains(n)) return header.indexOf(n);
        throw new IllegalArgumentException("manifest " + manifest + ": the header " + header + " has no " + String.join(" / ", names) + " column");
    }

    private static void add(Map<Path, List<String>> out, Path manifest, int line, String file, List<String> texts) {
        Path image = manifest.toAbsolutePath().getParent().resolve(file).normalize();
        if (!Files.isRegularFile(image)) throw new IllegalArgumentException("manifest " + manifest + ", line " + line + ": image " + image + " does not exist");
        out.computeIfAbsent(image, k -> new ArrayList<>()).addAll(texts);
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    public Path file(int index) {
        return files.get(index);
    }

    /** Captions of all images together. */
    public int captionCount() {
        return captions.stream().mapToInt(List::size).sum();
    }

    /** Every caption of image {@code index}. */
    public List<String> captions(int index) {
        return captions.get(index);
    }

    /** The caption of image {@code index} for {@code epoch}: one of its captions, drawn from (seed, epoch, index), so runs repeat. */
    public String caption(int index, long epoch, long seed) {
        List<String> c = captions.get(index);
        return c.get(draw(c.size(), index, epoch, seed));
    }

    /** Which of {@code count} captions sample {@code index} shows in {@code epoch}: drawn from (seed, epoch, index), so runs repeat. */
    public static int draw(int count, long index, long epoch, long seed) {
        if (count == 1) return 0;
        long key = (seed * 0x9E3779B97F4A7C15L + epoch) * 0x9E3779B97F4A7C15L + index;
        return new SplittableRandom(key).nextInt(count);
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public long[] imageShape() {
        return new long[] {3, size, size};
    }

    /** Captioned images have no classes. */
    @Override
    public List<String> classes() {
        return List.of();
    }

    /** Every image's label is 0: the conditioning is its caption. */
    @Override
    public long label(int index) {
        return 0;
    }

    @Override
    public void readImage(int index, float[] chw) {
        try {
            ImageFolder.toChw(PillowResize.centerCrop(ImageFolder.readRgb(files.get(index)), size), size, chw);
        } catch (OutOfMemoryError e) {
            throw new IllegalArgumentException("image " + files.get(index) + ": out of memory while decoding it (raise -Xmx, or use smaller images)", e);
        }
    }

    /** RFC 4180 CSV: commas, double-quoted fields with "" for a quote, quoted line breaks. */
    static final class Csv {
        private Csv() {}

        static List<List<String>> parse(String text, Path file) {
            List<List<String>> rows = new ArrayList<>();
            List<String> row = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean quoted = false;
            boolean closed = false; // the field's closing quote has been read: only a comma or a line break may follow
            int line = 1;
            int openedAt = 0;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (quoted) {
                    if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else if (c == '"') {
                        quoted = false;
                        closed = true;
                    } else {
                        if (c == '\n') line++;
                        field.append(c);
                    }
                } else if (c == ',') {
                    row.add(field.toString());
                    field.setLength(0);
                    closed = false;
                } else if (c == '\n') {
                    row.add(field.toString());
                    field.setLength(0);
                    rows.add(row);
                    row = new ArrayList<>();
                    closed = false;
                    line++;
                } else if (closed) {
                    throw new IllegalArgumentException("manifest " + file + ", line " + line + ": text after a quoted field's closing quote"
                            + " (a quote inside a quoted field is written twice: \"a \"\"b\"\" c\")");
                } else if (c == '"' && field.isEmpty()) {
                    quoted = true;
                    openedAt = line;
                } else if (c == '"') {
                    throw new IllegalArgumentException("manifest " + file + ", line " + line + ": a quote inside an unquoted field"
                            + " (quote the whole field and write the quote twice: \"a \"\"b\"\" c\")");
                } else {
                    field.append(c);
                }
            }
            if (quoted) throw new IllegalArgumentException("manifest " + file + ", line " + openedAt + ": a quoted field opened there is never closed");
            if (!field.isEmpty() || !row.isEmpty()) {
                row.add(field.toString());
                rows.add(row);
            }
            return rows;
        }
    }
}
