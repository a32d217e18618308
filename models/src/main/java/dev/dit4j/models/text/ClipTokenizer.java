package dev.dit4j.models.text;

import dev.dit4j.nn.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP's tokenizer, as open_clip's SimpleTokenizer: the caption is cleaned ({@link CaptionCleaner}),
 * split by CLIP's pattern (contractions, letter runs, single digits, runs of other symbols), each
 * piece's UTF-8 bytes are mapped to symbols and merged by byte-level BPE; the ids are framed by the
 * start and end tokens in a row of {@code contextLength} (77), truncated keeping the end token and
 * padded with zeros, or with the end token as Hugging Face's CLIPTokenizer pads. Thread-safe.
 */
public final class ClipTokenizer {
    /** The context of every released CLIP text encoder. */
    public static final int CONTEXT_LENGTH = 77;

    /** What fills a row after the end token. */
    public enum Padding {
        /** Zeros, as open_clip (and U-ViT's and MicroDiT's pipelines through it). */
        ZEROS,
        /** The end token, as Hugging Face's CLIPTokenizer with padding="max_length". */
        END_TOKEN
    }

    private static final String WHITESPACE = "\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
    /** open_clip's pattern (the special tokens first), case-insensitive; \s is Unicode white space as in Python's regex module. */
    private static final Pattern PIECES = Pattern.compile(
            "<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^" + WHITESPACE + "\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    /** Distinct words remembered before the cache starts over (open_clip's grows without bound). */
    private static final int CACHE_LIMIT = 200_000;

    private final ClipVocabulary vocab;
    private final int contextLength;
    private final Padding padding;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    public ClipTokenizer(ClipVocabulary vocab, int contextLength, Padding padding) {
        if (contextLength < 2) throw new IllegalArgumentException("a context of " + contextLength + " tokens cannot hold the start and end tokens");
        this.vocab = vocab;
        this.contextLength = contextLength;
        this.padding = padding;
    }

    /** open_clip's tokenizer over the vocabulary in {@code file} (see {@link ClipVocabulary#open}): 77 tokens, zero padding. */
    public static ClipTokenizer open(Path file) {
        return new ClipTokenizer(ClipVocabulary.open(file), CONTEXT_LENGTH, Padding.ZEROS);
    }

    public ClipTokenizer withPadding(Padding p) {
        return new ClipTokenizer(vocab, contextLength, p);
    }

    public ClipTokenizer withContextLength(int length) {
        return new ClipTokenizer(vocab, length, padding);
    }

    public ClipVocabulary vocabulary() {
        return vocab;
    }

    public int contextLength() {
        return contextLength;
    }

    /** The BPE ids of {@code text} after cleaning, without start and end tokens and without a length limit. */
    public List<Integer> encode(String text) {
        List<Integer> ids = new ArrayList<>();
        // Python's case-insensitive pattern matches U+0345 (a combining mark whose upper case is a letter) with no
        // alternative: it belongs to no piece and ends the one before it.
        for (String part : CaptionCleaner.clean(text).split("\u0345")) {
            Matcher m = PIECES.matcher(part);
            while (m.find()) {
                String piece = m.group();
                if (piece.equals("<start_of_text>")) ids.add(vocab.startOfText());
                else if (piece.equals("<end_of_text>")) ids.add(vocab.endOfText());
                else for (int id : word(ByteSymbols.encode(piece))) ids.add(id);
            }
        }
        return ids;
    }

    /** One caption as a row of {@link #contextLength} ids: start, the caption's ids, end, then padding. */
    public long[] tokenize(String caption) {
        List<Integer> ids = encode(caption);
        long[] row = new long[contextLength];
        long pad = padding == Padding.ZEROS ? 0 : vocab.endOfText();
        java.util.Arrays.fill(row, pad);
        row[0] = vocab.startOfText();
        int kept = Math.min(ids.size(), contextLength - 2);
        for (int i = 0; i < kept; i++) row[1 + i] = ids.get(i);
        row[1 + kept] = vocab.endOfText();
        return row;
    }

    /** Captions as int64 ids [N, contextLength]. */
    public Tensor tokenize(List<String> captions) {
        long[] all = new long[captions.size() * contextLength];
        for (int i = 0; i < captions.size(); i++) System.arraycopy(tokenize(captions.get(i)), 0, all, i * contextLength, contextLength);
        return Tensor.of(all, captions.size(), contextLength);
    }

    /** The ids of one piece of byte symbols, merged by BPE (remembered). */
    private int[] word(String symbols) {
        int[] known = cache.get(symbols);
        if (known != null) return known;
        List<String> parts = bpe(symbols);
        int[] ids = new int[parts.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.encoder().get(parts.get(i));
            if (id == null) throw new IllegalStateException("BPE produced '" + parts.get(i) + "', which the vocabulary lacks (an inconsistent token file)");
            ids[i] = id;
        }
        if (cache.size() >= CACHE_LIMIT) cache.clear();
        cache.put(symbols, ids);
        return ids;
    }

    /** The word's symbols, the last marked {@code </w>}, merged pair by pair, lowest rank first, until no ranked pair is left. */
    private List<String> bpe(String symbols) {
        List<String> word = new ArrayList<>(symbols.length());
        for (int i = 0; i < symbols.length() - 1; i++) word.add(String.valueOf(symbols.charAt(i)));
        word.add(symbols.charAt(symbols.length() - 1) + "</w>");
        while (word.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null, second = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer rank = vocab.mergeRanks().get(word.get(i) + " " + word.get(i + 1));
                if (rank != null && rank < best) {
                    best = rank;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) break;
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); i++) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(word.get(i));
                }
            }
            word = merged;
        }
        return word;
    }
}
