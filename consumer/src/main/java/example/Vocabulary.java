package example;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A minimal CLIP byte-level BPE vocabulary in Hugging Face's files ({@code vocab.json} +
 * {@code merges.txt}): every printable ASCII character alone and ending a word ({@code </w>}),
 * merges that join the letters of each of a few words, and CLIP's start and end tokens.
 */
final class Vocabulary {
    private Vocabulary() {}

    /** Writes the two files into {@code dir}; returns vocab.json. */
    static Path write(Path dir, List<String> words) throws IOException {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (char c = '!'; c <= '~'; c++) vocab.put(String.valueOf(c), vocab.size());
        for (char c = '!'; c <= '~'; c++) vocab.put(c + "</w>", vocab.size());
        List<String> merges = new ArrayList<>();
        for (String word : words) { // "red": "r e" -> "re", "re d</w>" -> "red</w>"
            String left = word.substring(0, 1);
            for (int i = 1; i < word.length(); i++) {
                String right = word.charAt(i) + (i == word.length() - 1 ? "</w>" : "");
                if (vocab.putIfAbsent(left + right, vocab.size()) == null) merges.add(left + " " + right);
                left += right;
            }
        }
        vocab.put("<|startoftext|>", vocab.size());
        vocab.put("<|endoftext|>", vocab.size());
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n");
        Path file = dir.resolve("vocab.json");
        Files.writeString(file, vocab.entrySet().stream()
                .map(e -> "\"" + e.getKey().replace("\\", "\\\\").replace("\"", "\\\"") + "\": " + e.getValue())
                .collect(Collectors.joining(",\n ", "{", "}\n")));
        return file;
    }
}
