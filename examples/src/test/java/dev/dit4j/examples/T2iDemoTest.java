package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonParser;
import dev.dit4j.models.flow.Transport;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code t2i-demo --data emoji} on a tiny captioned folder (MicroDiT with a frozen text tower, U-ViT with a trained one), the tower, the emoji captions, refusals. */
class T2iDemoTest {
    @TempDir
    Path dir;

    /** Four 8x8 images of flat colours, each with two captions; one ("blue heart") is a prompt of the grid. */
    private Path captionedFolder() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("emoji"));
        String[] names = {"red", "green", "blue", "yellow"};
        int[] rgb = {0xff0000, 0x00ff00, 0x0000ff, 0xffff00};
        for (int i = 0; i < names.length; i++) {
            BufferedImage image = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) image.setRGB(x, y, rgb[i]);
            ImageIO.write(image, "png", folder.resolve(names[i] + ".png").toFile());
            Files.write(folder.resolve(names[i] + ".txt"), List.of(names[i] + " square", i == 2 ? "blue heart" : "large " + names[i] + " square"));
        }
        return folder;
    }

    private String[] tiny(String model, Path out, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--data", "emoji", "--emoji", captionedFolder().toString(), "--model", model, "--minutes", "0.002",
                "--batch", "2", "--hidden", "64", "--depth", "2", "--patch", "8", "--text-width", "64", "--text-layers", "1", "--steps", "1",
                "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void trainsAndSamplesAPromptGridWithBothModelsAndNoLeak() throws Exception {
        long live = Torch.liveTensors();
        for (List<String> run : List.of(List.of("microdit"), List.of("uvit", "--train-text"), List.of("microdit", "--objective", "flow"))) {
            Path out = dir.resolve(String.join("", run));
            assertEquals(0, new CommandLine(new T2iDemo()).execute(tiny(run.get(0), out, run.subList(1, run.size()).toArray(String[]::new))), run.toString());
            for (String f : List.of("grid.png", "checkpoint.safetensors", "text-encoder.safetensors")) assertTrue(Files.isRegularFile(out.resolve(f)), out + "/" + f);
            BufferedImage grid = ImageIO.read(out.resolve("grid.png").toFile());
            assertTrue(grid.getWidth() > 15 * 128 && grid.getHeight() > 3 * 128, "rows of 1 seen prompt, its real image and 15 novel prompts");
        }
        try (Safetensors.Contents flow = Safetensors.read(dir.resolve("microdit--objectiveflow/checkpoint.safetensors"))) {
            assertEquals("linear", flow.metadata().get(Transport.PATH_KEY), "--objective flow trains with SiT's transport and records it");
        }
        assertEquals(live, Torch.liveTensors(), "t2i-demo frees every tensor it made");
    }

    @Test
    void aTrainedTowerLearnsAndAFrozenOneStays() {
        long live = Torch.liveTensors();
        ClipTextConfig config = ClipTextConfig.OPENCLIP_VIT_H_14.withContextLength(8).withWidth(64).withLayers(1).withHeads(1).withMlpWidth(128)
                .withProjectionDim(0);
        ClipTokenizer tokenizer = ClipTokenizer.open(OpenClipVocabularyFile.path()).withContextLength(8);
        List<String> captions = List.of("red square", "blue circle");
        long[] both = {0, 1};
        try (TextTower frozen = new TextTower(config, tokenizer, captions, false, 1e-2, 1, 0.5, Device.CPU, 3);
             TextTower trained = new TextTower(config, tokenizer, captions, true, 1e-2, 1, 0.5, Device.CPU, 3);
             TensorScope s = TensorScope.open()) {
            Tensor before = trained.encode(captions);
            assertEquals(0, before.sub(frozen.training(both)).abs().max().item(), 1e-6, "the same seeded tower");
            assertEquals(0, trained.encode(List.of("")).sub(frozen.trainingEmpty()).abs().max().item(), 1e-6, "the empty caption last");
            assertFalse(frozen.training(both).requiresGrad(), "a frozen tower's embeddings carry no gradient");
            for (int i = 0; i < 3; i++) {
                try (TensorScope step = TensorScope.open()) {
                    Tensor emb = trained.training(both);
                    assertTrue(emb.requiresGrad(), "a trained tower's embeddings carry gradients into it");
                    emb.square().mean().backward();
                    trained.step();
                    frozen.step();
                }
            }
            assertTrue(trained.encode(captions).sub(before).abs().max().item() > 1e-4, "the trained tower's average moved");
            assertEquals(0, frozen.encode(captions).sub(before).abs().max().item(), 1e-6, "the frozen tower did not");
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void emojiCaptionsAreTheNameAndShortNames() {
        var entry = JsonParser.parseString("{\"name\":\"HEAVY BLACK HEART\",\"short_names\":[\"heart\",\"heavy_black_heart\",\"red-heart\"]}")
                .getAsJsonObject();
        assertEquals(List.of("heavy black heart", "heart", "red heart"), EmojiCaptions.captionsOf(entry));
    }

    @Test
    void transparentPixelsBecomeWhite() {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00000000);
        argb.setRGB(1, 0, 0x80ff0000);
        BufferedImage rgb = EmojiCaptions.onWhite(argb);
        assertEquals(0xffffff, rgb.getRGB(0, 0) & 0xffffff);
        assertEquals(0xff7f7f, rgb.getRGB(1, 0) & 0xffffff, "half-transparent red over white");
    }

    @Test
    void unknownDataAndAMissingFolderAreRefusedByName() {
        assertRefused("unknown --data 'coco': expected fashion or emoji", "--data", "coco");
        assertRefused("is not a folder of images with same-stem .txt captions", "--data", "emoji", "--emoji", dir.resolve("none").toString());
        assertRefused("unknown --model 'dit': expected microdit or uvit", "--model", "dit");
    }

    private void assertRefused(String expected, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--out", dir.resolve("o").toString()));
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new T2iDemo());
        cli.setErr(new PrintWriter(err));
        assertEquals(2, cli.execute(all.toArray(String[]::new)), "a usage error");
        assertTrue(err.toString().contains(expected), err.toString());
    }
}
