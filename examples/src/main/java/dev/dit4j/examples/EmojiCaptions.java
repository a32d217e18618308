package dev.dit4j.examples;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.dit4j.bindings.UserCache;
import dev.dit4j.models.data.CaptionedImages;
import dev.dit4j.nn.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * Real captioned images for the text-to-image example: Google's Noto emoji (Apache 2.0) from the
 * npm package {@code emoji-datasource-google}, each captioned with its Unicode name and its short
 * names ("heavy black heart", "heart"), several captions per image. The package is fetched once
 * with {@code npm pack} into the user cache ({@code $XDG_CACHE_HOME/dit4j} or
 * {@code ~/.cache/dit4j}) and turned into a {@link CaptionedImages} folder: 64 px RGB PNGs on
 * white, with same-stem .txt captions. Any such folder can be given instead.
 */
final class EmojiCaptions implements AutoCloseable {
    static final String PACKAGE = "emoji-datasource-google@16.0.0";
    static final String FOLDER = "emoji-google-16.0.0";

    /** Images [N, 3, S, S] in [-1, 1] on the CPU. */
    private final Tensor images;
    /** Every image's captions, one after another; image i's are {@code first[i] .. first[i + 1] - 1}. */
    private final List<String> captions;
    private final int[] first;

    private EmojiCaptions(Tensor images, List<String> captions, int[] first) {
        this.images = images;
        this.captions = captions;
        this.first = first;
    }

    /** The captioned images of {@code folder} at {@code size} px, held in memory until {@link #close}. */
    static EmojiCaptions load(Path folder, int size) {
        CaptionedImages data = CaptionedImages.open(folder, size);
        int n = data.size(), px = 3 * size * size;
        float[] all = new float[n * px], one = new float[px];
        List<String> captions = new ArrayList<>();
        int[] first = new int[n + 1];
        for (int i = 0; i < n; i++) {
            data.readImage(i, one);
            System.arraycopy(one, 0, all, i * px, px);
            first[i] = captions.size();
            captions.addAll(data.captions(i));
        }
        first[n] = captions.size();
        return new EmojiCaptions(Tensor.of(all, n, 3, size, size), List.copyOf(captions), first);
    }

    int size() {
        return first.length - 1;
    }

    List<String> captions() {
        return captions;
    }

    /** A batch of {@code n} random images [n, 3, S, S], each with one of its captions, by index into {@link #captions()}. */
    T2iDemo.Batch batch(Random random, int n) {
        long[] rows = new long[n], caption = new long[n];
        for (int i = 0; i < n; i++) {
            int image = random.nextInt(size());
            rows[i] = image;
            caption[i] = first[image] + random.nextInt(first[image + 1] - first[image]);
        }
        try (Tensor index = Tensor.of(rows, n)) {
            return new T2iDemo.Batch(images.indexSelect(0, index), caption);
        }
    }

    /** The first image [1, 3, S, S] with {@code caption} among its captions, or null when none has it. */
    Tensor imageCaptioned(String caption) {
        for (int i = 0; i < size(); i++) {
            if (captions.subList(first[i], first[i + 1]).contains(caption)) return images.narrow(0, i, 1);
        }
        return null;
    }

    @Override
    public void close() {
        images.close();
    }

    /** The captioned folder: {@code override} when given, else the cached one, provisioned from npm when missing. */
    static Path locate(Path override) {
        if (override != null) return override;
        Path cached = UserCache.dir().resolve(FOLDER);
        if (Files.isDirectory(cached)) return cached;
        provision(cached);
        return cached;
    }

    /** The captions of one emoji.json entry: its name, then its short names with '_' and '-' as spaces, lower case, each once. */
    static List<String> captionsOf(JsonObject entry) {
        Set<String> out = new LinkedHashSet<>();
        JsonElement name = entry.get("name");
        if (name != null && name.isJsonPrimitive()) out.add(name.getAsString().toLowerCase(Locale.ROOT).strip());
        JsonElement shortNames = entry.get("short_names");
        if (shortNames != null && shortNames.isJsonArray()) {
            for (JsonElement s : shortNames.getAsJsonArray()) out.add(s.getAsString().replace('_', ' ').replace('-', ' ').toLowerCase(Locale.ROOT).strip());
        }
        out.remove("");
        return List.copyOf(out);
    }

    private static void provision(Path target) {
        Path tmp = null;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempDirectory(target.getParent(), "emoji.partial.");
            System.out.printf("emoji: fetching %s with npm pack into %s (once; about 75 MB)%n", PACKAGE, target);
            run(tmp, 10, "npm", "pack", "--silent", PACKAGE);
            Path tgz;
            try (var files = Files.list(tmp)) {
                tgz = files.filter(f -> f.getFileName().toString().endsWith(".tgz")).findFirst()
                        .orElseThrow(() -> failure("npm pack wrote no .tgz of " + PACKAGE));
            }
            run(tmp, 5, "tar", "-xzf", tgz.getFileName().toString(), "package/emoji.json", "package/img/google/64");
            Path pkg = tmp.resolve("package"), out = tmp.resolve(FOLDER);
            Files.createDirectories(out);
            JsonArray entries = JsonParser.parseString(Files.readString(pkg.resolve("emoji.json"), StandardCharsets.UTF_8)).getAsJsonArray();
            int written = 0;
            for (JsonElement e : entries) {
                JsonObject entry = e.getAsJsonObject();
                if (entry.get("has_img_google") == null || !entry.get("has_img_google").getAsBoolean()) continue;
                String file = entry.get("image").getAsString();
                Path png = pkg.resolve("img/google/64").resolve(file);
                List<String> captions = captionsOf(entry);
                if (!Files.isRegularFile(png) || captions.isEmpty()) continue;
                ImageIO.write(onWhite(ImageIO.read(png.toFile())), "png", out.resolve(file).toFile());
                String stem = file.substring(0, file.lastIndexOf('.'));
                Files.write(out.resolve(stem + ".txt"), captions, StandardCharsets.UTF_8);
                written++;
            }
            if (written == 0) throw failure(PACKAGE + " held no Google emoji images");
            Files.move(out, target, StandardCopyOption.ATOMIC_MOVE);
            System.out.printf("emoji: %d captioned images in %s%n", written, target);
        } catch (IOException e) {
            throw failure(e.toString());
        } finally {
            if (tmp != null) deleteTree(tmp);
        }
    }

    /** An ARGB image composited over white (the emoji's transparent surround), as RGB. */
    static BufferedImage onWhite(BufferedImage image) {
        BufferedImage rgb = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int argb = image.getRGB(x, y), a = argb >>> 24, p = 0;
                for (int shift = 0; shift <= 16; shift += 8) {
                    int c = (argb >> shift) & 0xff;
                    p |= ((c * a + 255 * (255 - a) + 127) / 255) << shift;
                }
                rgb.setRGB(x, y, p);
            }
        }
        return rgb;
    }

    private static void run(Path dir, int minutes, String... cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
        } catch (IOException e) {
            throw failure("cannot run " + cmd[0] + " (" + e.getMessage() + "): install " + (cmd[0].equals("npm") ? "Node.js's npm (e.g. apt-get install npm)" : cmd[0]));
        }
        try {
            if (!p.waitFor(minutes, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                List<String> log = Files.readAllLines(dir.resolve("log.txt"));
                throw failure("'" + String.join(" ", cmd) + "' failed (" + String.join(" / ", log.subList(Math.max(0, log.size() - 2), log.size())) + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("interrupted");
        }
    }

    private static IllegalStateException failure(String why) {
        return new IllegalStateException("cannot provision the emoji captions from npm's " + PACKAGE + ": " + why
                + "; or pass --emoji FOLDER (images with same-stem .txt captions)");
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temp folder is harmless
        }
    }

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }
}
