package dev.dit4j.examples.options;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --text-encoder}, {@code --vocab}: the CLIP text encoder a command encodes captions with, and its vocabulary. */
public final class TextEncoderOption {
    @Option(names = "--text-encoder", description = "the CLIP text encoder (.safetensors/.pt: transformers' or open_clip's layout)")
    private Path textEncoder;

    @Option(names = "--vocab", description = "the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, vocab.json + merges.txt, tokenizer.json) (default: open_clip's)")
    private Path vocab;

    /** The text encoder's file, or null. */
    public Path file() {
        return textEncoder;
    }

    /** The vocabulary asked for, or null for open_clip's. */
    public Path vocabulary() {
        return vocab;
    }
}
