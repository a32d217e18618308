package dev.dit4j.models.text;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokenizer against open_clip's SimpleTokenizer on the captions of make_clip_fixtures.py
 * (plain, contractions, numbers, HTML entities, accents, CJK, emoji, controls, odd whitespace,
 * empty, over-long and random mixes of scripts), its vocabulary from open_clip's file or from
 * Hugging Face's files, and Hugging Face's end-token padding.
 */
class ClipTokenizerTest {
    @TempDir
    Path dir;

    static ClipTokenizer tokenizer;
    static List<String> captions;
    static List<String> hfCaptions;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = ClipTokenizer.open(VocabularyFixture.path());
        JsonObject json = JsonParser.parseString(Files.readString(fixture("clip_captions.json"))).getAsJsonObject();
        captions = strings(json.getAsJsonArray("captions"));
        hfCaptions = strings(json.getAsJsonArray("hf_captions"));
    }

    @Test
    void everyCaptionTokenizesAsOpenClip() throws Exception {
        try (Safetensors.Contents ref = Safetensors.read(fixture("clip_tokens.safetensors")); TensorScope s = TensorScope.open()) {
            long[] expected = ref.tensors().get("input_ids").toLongArray();
            assertEquals(captions.size() * 77L, expected.length);
            List<String> wrong = new ArrayList<>();
            for (int i = 0; i < captions.size(); i++) {
                long[] row = tokenizer.tokenize(captions.get(i));
                long[] want = Arrays.copyOfRange(expected, i * 77, (i + 1) * 77);
                if (!Arrays.equals(want, row)) wrong.add(i + " " + new Gson().toJson(captions.get(i)) + "\n  open_clip " + Arrays.toString(want) + "\n  dit4j     " + Arrays.toString(row));
            }
            assertTrue(wrong.isEmpty(), wrong.size() + " of " + captions.size() + " captions differ:\n" + String.join("\n", wrong.subList(0, Math.min(5, wrong.size()))));
            System.out.println("tokenizer: " + captions.size() + " captions identical to open_clip's");
        }
    }

    @Test
    void tensorOfCaptionsIsInt64Rows() {
        try (TensorScope s = TensorScope.open()) {
            Tensor ids = tokenizer.tokenize(List.of("a cat", "", "a dog"));
            assertArrayEquals(new long[] {3, 77}, ids.shape());
            assertEquals(dev.dit4j.nn.DType.INT64, ids.dtype());
            long[] empty = Arrays.copyOfRange(ids.toLongArray(), 77, 154);
            assertEquals(49406, empty[0]);
            assertEquals(49407, empty[1]);
            assertEquals(0, empty[2]);
        }
    }

    @Test
    void overLongCaptionsKeepTheEndToken() {
        long[] row = tokenizer.tokenize("word ".repeat(200));
        assertEquals(49406, row[0]);
        assertEquals(49407, row[76]);
        for (int i = 1; i < 76; i++) assertNotEquals(0, row[i]);
    }

    @Test
    void huggingFaceFilesGiveTheSameIdsAndPadWithTheEndToken() throws Exception {
        writeHuggingFaceFiles(tokenizer.vocabulary(), dir);
        ClipTokenizer fromPair = ClipTokenizer.open(dir.resolve("vocab.json"));
        ClipTokenizer fromMerges = ClipTokenizer.open(dir.resolve("merges.txt"));
        ClipTokenizer fromJson = ClipTokenizer.open(dir.resolve("tokenizer.json"));
        for (String c : captions.subList(0, 120)) {
            long[] want = tokenizer.tokenize(c);
            assertArrayEquals(want, fromPair.tokenize(c), c);
            assertArrayEquals(want, fromMerges.tokenize(c), c);
            assertArrayEquals(want, fromJson.tokenize(c), c);
        }
        ClipTokenizer hf = fromPair.withPadding(ClipTokenizer.Padding.END_TOKEN);
        try (Safetensors.Contents ref = Safetensors.read(fixture("clip_tokens.safetensors")); TensorScope s = TensorScope.open()) {
            long[] expected = ref.tensors().get("hf_input_ids").toLongArray();
            for (int i = 0; i < hfCaptions.size(); i++) {
                assertArrayEquals(Arrays.copyOfRange(expected, i * 77, (i + 1) * 77), hf.tokenize(hfCaptions.get(i)), "transformers' CLIPTokenizer: " + hfCaptions.get(i));
            }
        }
    }

    @Test
    void unknownOrBrokenTokenFilesAreNamed() throws IOException {
        Path txt = Files.writeString(dir.resolve("vocab.txt"), "hello");
        var e = assertThrows(IllegalArgumentException.class, () -> ClipVocabulary.open(txt));
        assertTrue(e.getMessage().contains("unknown token file format") && e.getMessage().contains(txt.toString()), e.getMessage());

        Path notGzip = Files.writeString(dir.resolve("bpe.txt.gz"), "not gzip");
        e = assertThrows(IllegalArgumentException.class, () -> ClipVocabulary.open(notGzip));
        assertTrue(e.getMessage().contains("not gzip") && e.getMessage().contains(notGzip.toString()), e.getMessage());

        Path shortGz = dir.resolve("short.txt.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(shortGz))) {
            out.write("#version: 0.2\ni n\n".getBytes(StandardCharsets.UTF_8));
        }
        e = assertThrows(IllegalArgumentException.class, () -> ClipVocabulary.open(shortGz));
        assertTrue(e.getMessage().contains("1 merges"), e.getMessage());

        Path json = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\"}}");
        e = assertThrows(IllegalArgumentException.class, () -> ClipVocabulary.open(json));
        assertTrue(e.getMessage().contains("unknown token file format"), e.getMessage());

        Path lonely = Files.writeString(dir.resolve("vocab.json"), "{}");
        e = assertThrows(IllegalArgumentException.class, () -> ClipVocabulary.open(lonely));
        assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> ClipVocabulary.open(dir.resolve("missing.txt.gz")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void cleaningFollowsOpenClip() {
        assertEquals("tom & jerry", CaptionCleaner.clean("  Tom &amp;amp; Jerry\t"));
        assertEquals("loud noises", CaptionCleaner.clean("ＬＯＵＤ　ＮＯＩＳＥＳ"));
        assertEquals("it's \"fine\" flour", CaptionCleaner.clean("It’s “ﬁne” ﬂour"));
        assertEquals("café", CaptionCleaner.clean("cafe\u0301"));
        assertEquals("<b> & </b>", CaptionCleaner.clean("<b> &amp;amp; </b>"), "open_clip unescapes twice");
        assertEquals("pérez", CaptionCleaner.clean("P&EACUTE;REZ"), "ftfy reads all-caps entities");
        assertEquals("<b>p&eacute;rez</b>", CaptionCleaner.clean("<b>P&EACUTE;REZ</b>"), "but not on a line with tags");
    }

    /** vocab.json + merges.txt and tokenizer.json in Hugging Face's layout (its names for the special tokens). */
    static void writeHuggingFaceFiles(ClipVocabulary v, Path folder) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        v.encoder().entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> vocab.put(
                e.getValue() == v.startOfText() ? "<|startoftext|>" : e.getValue() == v.endOfText() ? "<|endoftext|>" : e.getKey(), e.getValue()));
        List<String> merges = v.mergeRanks().entrySet().stream().sorted(Map.Entry.comparingByValue()).map(Map.Entry::getKey).toList();
        Gson gson = new Gson();
        Files.writeString(folder.resolve("vocab.json"), gson.toJson(vocab));
        Files.writeString(folder.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n");
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("vocab", gson.toJsonTree(vocab));
        JsonArray pairs = new JsonArray();
        for (int i = 0; i < merges.size(); i++) {
            if (i % 2 == 0) pairs.add(merges.get(i)); // both spellings of a merge: "a b" and [a, b]
            else pairs.add(gson.toJsonTree(merges.get(i).split(" ")));
        }
        model.add("merges", pairs);
        JsonObject root = new JsonObject();
        root.add("model", model);
        Files.writeString(folder.resolve("tokenizer.json"), gson.toJson(root));
    }

    static Path fixture(String name) throws Exception {
        return Path.of(ClipTokenizerTest.class.getResource("/fixtures/" + name).toURI());
    }

    private static List<String> strings(JsonArray a) {
        List<String> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsString()));
        return out;
    }
}
