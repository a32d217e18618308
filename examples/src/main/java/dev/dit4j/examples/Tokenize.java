package dev.dit4j.examples;

import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.models.text.CaptionFile;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.io.Safetensors;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Tokenizes captions as open_clip does, for the CLIP text encoders (and for parity checks against open_clip). */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize captions (one per line, UTF-8) with CLIP's BPE tokenizer, as open_clip; write input_ids [N,77] int64 to safetensors.")
public final class Tokenize implements Callable<Integer> {
    @Option(names = "--vocab", description = "open_clip's bpe_simple_vocab_16e6.txt.gz, Hugging Face's vocab.json (+ merges.txt) or tokenizer.json, "
            + "or a folder of one (default: open_clip's file, provisioned once into ~/.cache/dit4j)")
    Path vocab;

    @Option(names = "--captions", required = true, description = "UTF-8 text file, one caption per line")
    Path captions;

    @Option(names = "--out", required = true, description = "output safetensors with 'input_ids' [N,77] int64")
    Path out;

    @Option(names = "--pad", description = "padding after the end token: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}: open_clip's; END_TOKEN: Hugging Face's)")
    ClipTokenizer.Padding padding = ClipTokenizer.Padding.ZEROS;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        OutputPaths.requireDistinct(spec, "--out", out, "--captions", captions);
        OutputPaths.requireDistinct(spec, "--out", out, "--vocab", vocab);
        List<String> lines = CaptionFile.read(captions);
        if (lines.isEmpty()) throw new IllegalArgumentException("caption file " + captions + " is empty: expected one caption per line");
        ClipTokenizer tokenizer = ClipTokenizer.open(vocab != null ? vocab : OpenClipVocabularyFile.path()).withPadding(padding);
        try (TensorScope s = TensorScope.open()) {
            Tensor ids = tokenizer.tokenize(lines);
            Safetensors.save(out, Map.of("input_ids", ids), Map.of("captions", captions.toString(), "padding", padding.name()));
        }
        System.out.println("tokenize: " + lines.size() + " captions -> " + out);
        return 0;
    }
}
