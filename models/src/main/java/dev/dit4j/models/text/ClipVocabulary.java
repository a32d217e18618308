package dev.dit4j.models.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.dit4j.nn.io.InputFiles;
import java.io.InputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * CLIP's byte-level BPE vocabulary: the token ids and the ranked merges, from open_clip's
 * {@code bpe_simple_vocab_16e6.txt.gz} (49152 tokens: 512 byte symbols, the first 48894 merges, the
 * start and end tokens) or from Hugging Face's tokenizer files ({@code vocab.json} with
 * {@code merges.txt} beside it, or {@code tokenizer.json}); a folder holding any of these also works.
 *
 * @param encoder       token string to id
 * @param mergeRanks    "first second" to its rank (lower merges first)
 * @param startOfText   the start token's id
 * @param endOfText     the end token's id
 */
public record ClipVocabulary(Map<String, Integer> encoder, Map<String, Integer> mergeRanks, int startOfText, int endOfText) {
    /** Merges open_clip keeps of the file: 49152 - 256 - 2 (its 49408-token vocabulary). */
    public static final int OPEN_CLIP_MERGES = 49152 - 256 - 2;
    public static final String OPEN_CLIP_FILE = "bpe_simple_vocab_16e6.txt.gz";
    /** Largest token file, and largest decompressed content of a .gz one: CLIP's are a few MB. */
    static final long MAX_BYTES = 256L << 20;
    /** Longest line of a token file: a merge is two tokens. */
    static final int MAX_LINE = 64 << 10;

    public ClipVocabulary {
        encoder = Map.copyOf(encoder);
        mergeRanks = Map.copyOf(mergeRanks);
    }

    public int size() {
        return encoder.size();
    }

    /** Reads {@code path} by its name: *.gz (open_clip), vocab.json or merges.txt (with the other beside it), tokenizer.json, or a folder of one of these. */
    public static ClipVocabulary open(Path path) {
        if (Files.isDirectory(path)) {
            for (String name : new String[] {"tokenizer.json", "vocab.json", OPEN_CLIP_FILE}) {
                if (Files.isRegularFile(path.resolve(name))) return open(path.resolve(name));
            }
            throw new IllegalArgumentException("folder " + path + " holds no CLIP tokenizer file: expected tokenizer.json, vocab.json + merges.txt, or " + OPEN_CLIP_FILE);
        }
        InputFiles.requireRegularFile(path, "token file");
        String name = path.getFileName().toString();
        if (name.endsWith(".gz")) return openClip(path);
        if (name.endsWith("tokenizer.json")) return tokenizerJson(path);
        if (name.endsWith("vocab.json")) return huggingFace(path, sibling(path, "merges.txt"));
        if (name.endsWith("merges.txt")) return huggingFace(sibling(path, "vocab.json"), path);
        throw new IllegalArgumentException("unknown token file format: " + path + "; expected open_clip's " + OPEN_CLIP_FILE
                + " (or another .gz of BPE merges), Hugging Face's vocab.json + merges.txt, tokenizer.json, or a folder holding one of them");
    }

    /** open_clip's vocabulary: the byte symbols, each again with {@code </w>}, then one token per merge, then the start and end tokens. */
    static ClipVocabulary openClip(Path gz) {
        List<String> lines;
        try (InputStream in = InputFiles.openGzip(gz, "token file", MAX_BYTES, MAX_BYTES)) {
            lines = InputFiles.readLines(in, gz, "token file", OPEN_CLIP_MERGES + 1, MAX_LINE);
        } catch (IOException e) {
            throw InputFiles.cannotRead(gz, "token file", e);
        }
        if (lines.isEmpty()) throw new IllegalArgumentException("token file " + gz + " is empty: expected open_clip's " + OPEN_CLIP_FILE);
        if (lines.size() < OPEN_CLIP_MERGES + 1) {
            throw new IllegalArgumentException("token file " + gz + " holds " + Math.max(0, lines.size() - 1) + " merges; open_clip's has at least " + OPEN_CLIP_MERGES);
        }
        List<String[]> merges = new ArrayList<>();
        for (int i = 1; i <= OPEN_CLIP_MERGES; i++) merges.add(mergePair(lines.get(i), gz, i + 1));
        List<String> vocab = new ArrayList<>(ByteSymbols.SYMBOLS);
        for (String s : ByteSymbols.SYMBOLS) vocab.add(s + "</w>");
        for (String[] m : merges) vocab.add(m[0] + m[1]);
        vocab.add("<start_of_text>");
        vocab.add("<end_of_text>");
        Map<String, Integer> encoder = new HashMap<>();
        for (int i = 0; i < vocab.size(); i++) encoder.put(vocab.get(i), i);
        return new ClipVocabulary(encoder, ranks(merges), vocab.size() - 2, vocab.size() - 1);
    }

    /** Hugging Face's slow-tokenizer files. */
    static ClipVocabulary huggingFace(Path vocabJson, Path mergesTxt) {
        JsonElement vocab = json(vocabJson);
        if (!vocab.isJsonObject()) throw new IllegalArgumentException("token file " + vocabJson + " is not a JSON object of token ids");
        Map<String, Integer> encoder = vocabMap(vocab.getAsJsonObject(), vocabJson);
        List<String[]> merges = new ArrayList<>();
        List<String> lines = InputFiles.readLines(mergesTxt, "token file", MAX_BYTES, MAX_LINE);
        if (lines.isEmpty()) throw new IllegalArgumentException("token file " + mergesTxt + " is empty: expected BPE merges, one 'first second' a line");
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || (i == 0 && line.startsWith("#version"))) continue;
            merges.add(mergePair(line, mergesTxt, i + 1));
        }
        return huggingFace(encoder, merges, vocabJson);
    }

    /** Hugging Face's tokenizer.json: model.vocab and model.merges ("a b" strings or [a, b] pairs). */
    static ClipVocabulary tokenizerJson(Path file) {
        JsonElement root = json(file);
        JsonObject model = root.isJsonObject() && root.getAsJsonObject().get("model") instanceof JsonObject m ? m : null;
        if (model == null || !(model.get("vocab") instanceof JsonObject vocab) || !(model.get("merges") instanceof JsonArray mergeList)) {
            throw new IllegalArgumentException("unknown token file format: " + file + " has no model.vocab and model.merges (not a BPE tokenizer.json)");
        }
        List<String[]> merges = new ArrayList<>();
        for (int i = 0; i < mergeList.size(); i++) {
            JsonElement m = mergeList.get(i);
            if (m.isJsonArray() && m.getAsJsonArray().size() == 2) {
                merges.add(new String[] {m.getAsJsonArray().get(0).getAsString(), m.getAsJsonArray().get(1).getAsString()});
            } else if (m.isJsonPrimitive()) {
                merges.add(mergePair(m.getAsString(), file, i + 1));
            } else {
                throw new IllegalArgumentException("token file " + file + ": merge " + (i + 1) + " is neither \"a b\" nor [a, b]");
            }
        }
        return huggingFace(vocabMap(vocab, file), merges, file);
    }

    private static ClipVocabulary huggingFace(Map<String, Integer> encoder, List<String[]> merges, Path file) {
        Integer start = encoder.get("<|startoftext|>"), end = encoder.get("<|endoftext|>");
        if (start == null || end == null) throw new IllegalArgumentException("token file " + file + " has no <|startoftext|> and <|endoftext|> tokens: not a CLIP vocabulary");
        for (String[] m : merges) {
            if (!encoder.containsKey(m[0] + m[1])) throw new IllegalArgumentException("token file " + file + ": merge '" + m[0] + " " + m[1] + "' makes a token the vocabulary lacks");
        }
        return new ClipVocabulary(encoder, ranks(merges), start, end);
    }

    private static Map<String, Integer> vocabMap(JsonObject vocab, Path file) {
        Map<String, Integer> encoder = new HashMap<>();
        for (var e : vocab.entrySet()) {
            if (!e.getValue().isJsonPrimitive() || !e.getValue().getAsJsonPrimitive().isNumber()) {
                throw new IllegalArgumentException("token file " + file + ": the id of token '" + e.getKey() + "' is not a number");
            }
            encoder.put(e.getKey(), e.getValue().getAsInt());
        }
        return encoder;
    }

    private static Map<String, Integer> ranks(List<String[]> merges) {
        Map<String, Integer> ranks = new HashMap<>();
        for (int i = 0; i < merges.size(); i++) ranks.putIfAbsent(merges.get(i)[0] + " " + merges.get(i)[1], i);
        return ranks;
    }

    private static String[] mergePair(String line, Path file, int lineNumber) {
        String[] parts = line.trim().split(" ");
        if (parts.length != 2 || parts[0].isEmpty()) {
            throw new IllegalArgumentException("token file " + file + ", line " + lineNumber + ": expected a merge 'first second', found '" + abbreviate(line) + "'");
        }
        return parts;
    }

    private static JsonElement json(Path file) {
        String text = InputFiles.readString(file, "token file", MAX_BYTES);
        if (text.isBlank()) throw new IllegalArgumentException("token file " + file + " is empty");
        try {
            return JsonParser.parseString(text);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("token file " + file + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static Path sibling(Path file, String name) {
        Path other = file.resolveSibling(name);
        if (!Files.isRegularFile(other)) throw new IllegalArgumentException("token file " + file + " needs " + name + " beside it (Hugging Face's CLIP tokenizer files come as a pair)");
        return other;
    }

    private static Reader strictUtf8(java.io.InputStream in) {
        return new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }
}
