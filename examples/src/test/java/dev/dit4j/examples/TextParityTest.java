package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code tokenize} and {@code parity --model clip-vit-l-14-text|openclip-vit-h-14-text}, as external checks drive them. */
class TextParityTest {
    @TempDir
    Path dir;

    @Test
    void tokenizeWritesOpenClipsIdsForEachLine() throws Exception {
        Path vocab = OpenClipVocabularyFile.path();
        List<String> captions = List.of("A red sneaker left of a blue bag", "", "東京 🐶 &amp; café", "word ".repeat(100));
        Path file = Files.writeString(dir.resolve("captions.txt"), String.join("\n", captions) + "\n", StandardCharsets.UTF_8);
        Path out = dir.resolve("ids.safetensors");
        assertEquals(0, new CommandLine(new Tokenize()).execute("--vocab", vocab.toString(), "--captions", file.toString(), "--out", out.toString()));
        ClipTokenizer tokenizer = ClipTokenizer.open(vocab);
        try (Safetensors.Contents ids = Safetensors.read(out); TensorScope s = TensorScope.open()) {
            Tensor t = ids.tensors().get("input_ids");
            assertArrayEquals(new long[] {4, 77}, t.shape());
            assertEquals(DType.INT64, t.dtype());
            long[] all = t.toLongArray();
            for (int i = 0; i < captions.size(); i++) {
                assertArrayEquals(tokenizer.tokenize(captions.get(i)), java.util.Arrays.copyOfRange(all, i * 77, (i + 1) * 77), captions.get(i));
            }
        }
    }

    @Test
    void invalidUtf8IsNamedWithItsLine() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write("fine\nalso fine\nbad \u00e9".getBytes(StandardCharsets.UTF_8));
        bytes.write(new byte[] {(byte) 0xC3, (byte) 0x28, '\n'});
        Path file = Files.write(dir.resolve("bad.txt"), bytes.toByteArray());
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Tokenize());
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("--vocab", OpenClipVocabularyFile.path().toString(), "--captions", file.toString(), "--out", dir.resolve("o.safetensors").toString());
        assertNotEquals(0, code);
        assertTrue(err.toString().contains("line 3") && err.toString().contains("UTF-8") && err.toString().contains(file.toString()), err.toString());
        assertFalse(Files.exists(dir.resolve("o.safetensors")));
    }

    @Test
    void unknownTokenFileFormatIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("c.txt"), "a cat\n");
        Path vocab = Files.writeString(dir.resolve("vocab.bin"), "??");
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Tokenize());
        cli.setErr(new PrintWriter(err));
        assertNotEquals(0, cli.execute("--vocab", vocab.toString(), "--captions", file.toString(), "--out", dir.resolve("o.safetensors").toString()));
        assertTrue(err.toString().contains("unknown token file format") && err.toString().contains(vocab.toString()), err.toString());
    }

    @Test
    void parityRunsBothTextEncodersFromTheirWeights() {
        long live = Torch.liveTensors();
        try (TensorScope s = TensorScope.open()) {
            Tensor ids = Tensor.of(new long[] {49406, 320, 1929, 49407, 0, 0, 49406, 49407, 49407, 49407, 49407, 49407}, 2, 6);
            Path in = dir.resolve("in.safetensors");
            Safetensors.save(in, Map.of("input_ids", ids));
            for (ClipTextConfig preset : List.of(ClipTextConfig.CLIP_VIT_L_14, ClipTextConfig.OPENCLIP_VIT_H_14)) {
                // a reduced random model: sizes are read from the file, heads are 64 wide as in every released CLIP
                ClipTextConfig cfg = preset.with(b -> b.width(128).heads(2).layers(2).mlpWidth(512).projectionDim(preset.projectionDim() > 0 ? 32 : 0));
                try (ClipTextEncoder model = cfg.create(Device.CPU, 3)) {
                    Path w = dir.resolve(preset.name() + ".safetensors");
                    Safetensors.save(w, model.stateDict());
                    Path out = dir.resolve("out.safetensors");
                    assertEquals(0, new CommandLine(new Parity()).execute("--model", preset.name(), "--weights", w.toString(),
                            "--inputs", in.toString(), "--out", out.toString()), preset.name());
                    model.eval();
                    try (Safetensors.Contents o = Safetensors.read(out)) {
                        Tensor hidden = model.forward(ids);
                        assertArrayEquals(new long[] {2, 6, 128}, o.tensors().get("out").shape());
                        assertTrue(o.tensors().get("out").allclose(hidden, 0, 0), preset.name());
                        assertTrue(o.tensors().get("pooled").allclose(model.pooled(ids, hidden), 0, 0), preset.name());
                    }
                }
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void parityNamesMissingInputIds() {
        try (TensorScope s = TensorScope.open(); ClipTextEncoder model = ClipTextConfig.CLIP_VIT_L_14.with(b -> b.width(64).heads(1).layers(1).mlpWidth(64))
                .create(Device.CPU, 1)) {
            Path w = dir.resolve("w.safetensors");
            Safetensors.save(w, model.stateDict());
            Safetensors.save(dir.resolve("in.safetensors"), Map.of("x", Tensor.zeros(1, 4)));
            Parity p = new Parity();
            new CommandLine(p).parseArgs("--model", "clip-vit-l-14-text", "--weights", w.toString(), "--inputs",
                    dir.resolve("in.safetensors").toString(), "--out", dir.resolve("o.safetensors").toString());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::call);
            assertTrue(e.getMessage().contains("'input_ids'"), e.getMessage());
        }
    }
}
