package dev.dit4j.examples;

import dev.dit4j.examples.FashionScenes.Prompt;
import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.LrOption;
import dev.dit4j.examples.options.ModelSizeOption;
import dev.dit4j.examples.options.MinutesOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.ObjectiveOption;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.UViT;
import dev.dit4j.models.data.FashionMnist;
import dev.dit4j.models.family.CheckpointInfo;
import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.EdmSampler;
import dev.dit4j.models.flow.Transport;
import dev.dit4j.models.flow.TransportObjective;
import dev.dit4j.models.flow.TransportSampler;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.sampling.SamplerSettings;
import dev.dit4j.models.text.CaptionConditioning;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.models.train.VpSdeObjective;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Text-to-image that can be measured, in the spirit of GenEval: captions compose objects, colours
 * and positions over real Fashion-MNIST items ({@link FashionScenes}); a text-to-image model
 * (MicroDiT with deferred masking, or U-ViT's text variant) learns them in pixel space from a small
 * CLIP-architecture text tower ({@link TextTower}: the real CLIP BPE tokenizer, weights frozen at
 * random init, or trained with the model with --train-text; no pretrained encoder can be
 * downloaded here), and samples for seen and held-out compositions are judged by a classifier
 * (object per half) and the mean hue (colour per half). {@code --data emoji} trains the same
 * way on real captioned images instead ({@link EmojiCaptions}) and samples a prompt grid.
 */
@Command(name = "t2i-demo", mixinStandardHelpOptions = true,
        description = "Train a small text-to-image MicroDiT (or U-ViT) on composed Fashion-MNIST captions; report prompt following on seen and unseen compositions (or, with --data emoji, on emoji with their names; a prompt grid).")
public final class T2iDemo implements Callable<Integer> {
    /** Tokens per caption: the longest ("a yellow t-shirt right of a yellow trousers") is 13 with start and end. */
    static final int CONTEXT = 16;

    @Option(names = "--model", description = "microdit or uvit (default ${DEFAULT-VALUE})")
    String model = "microdit";

    @Mixin
    MinutesOption minutesOption = new MinutesOption(12);

    @Mixin
    BatchOption batchOption = new BatchOption(64);

    @Mixin
    LrOption lrOption = new LrOption(1e-3);

    @Mixin
    ModelSizeOption size = new ModelSizeOption(4, 128, 4);

    @Mixin
    ObjectiveOption objectiveOption = new ObjectiveOption();

    @Option(names = "--mask-ratio", converter = Numbers.Fraction.class, description = "MicroDiT's deferred masking ratio, with its EDM objective (default ${DEFAULT-VALUE})")
    double maskRatio = 0.5;

    @Option(names = "--text-width", converter = Numbers.PositiveInt.class, description = "text tower width (default ${DEFAULT-VALUE})")
    int textWidth = 128;

    @Option(names = "--text-layers", converter = Numbers.PositiveInt.class, description = "text tower layers (default ${DEFAULT-VALUE})")
    int textLayers = 2;

    @Option(names = "--train-text", description = "train the text tower with the model (its own AdamW, EMA for sampling) instead of freezing it at random init")
    boolean trainText;

    @Option(names = "--data", description = "fashion (composed Fashion-MNIST captions, scored) or emoji (Noto emoji with their names, a prompt grid) (default ${DEFAULT-VALUE})")
    String data = "fashion";

    @Option(names = "--emoji", description = "with --data emoji: a folder of images with same-stem .txt captions to use instead of the emoji fetched from npm")
    Path emojiFolder;

    @Option(names = "--steps", converter = Numbers.PositiveInt.class,
            description = "sampling steps: EDM Heun for MicroDiT, DPM-Solver++ for U-ViT, Heun's ODE for --objective flow (default ${DEFAULT-VALUE})")
    int steps = 20;

    @Option(names = "--cfg", converter = Numbers.NonNegative.class, description = "guidance weight w (default 5 for MicroDiT, 3 for U-ViT)")
    Double cfg;

    @Option(names = "--eval", converter = Numbers.PositiveInt.class, description = "prompts sampled for each of the seen and unseen sets (default ${DEFAULT-VALUE})")
    int evalPrompts = 64;

    @Mixin
    OutputDirOption outOption = new OutputDirOption(Path.of("out", "t2i-demo"));

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Spec
    CommandSpec spec;

    /** A training batch: clean images [N, 3, S, S] on the CPU and the index of each one's caption in the text tower's list. */
    record Batch(Tensor x0, long[] captions) {}

    /** The output folder. */
    private Path out;

    @Override
    public Integer call() throws IOException {
        StopSignals.install(); // SIGTERM / SIGINT: finish the step, write the checkpoint, exit 143 / 130
        long start = System.nanoTime();
        boolean micro = switch (model.toLowerCase(Locale.ROOT)) {
            case "microdit" -> true;
            case "uvit", "u-vit" -> false;
            default -> throw new ParameterException(spec.commandLine(), "unknown --model '" + model + "': expected microdit or uvit");
        };
        boolean emoji = switch (data.toLowerCase(Locale.ROOT)) {
            case "fashion" -> false;
            case "emoji" -> true;
            default -> throw new ParameterException(spec.commandLine(), "unknown --data '" + data + "': expected fashion or emoji");
        };
        if (emojiFolder != null && !Files.isDirectory(emojiFolder)) {
            throw new ParameterException(spec.commandLine(), "--emoji " + emojiFolder + " is not a folder of images with same-stem .txt captions");
        }
        double w = cfg != null ? cfg : micro ? EdmSampler.DEFAULT_GUIDANCE : 3;
        out = outOption.dir();
        Files.createDirectories(out);
        if (emoji) emoji(micro, w);
        else fashion(micro, w);
        if (StopSignals.requested()) return StopSignals.exitCode(0);
        System.out.printf("wrote grid.png%s, checkpoint.safetensors and text-encoder.safetensors to %s in %.0f s; live tensors %d%n",
                emoji ? "" : ", table.md", out, Progress.secondsSince(start), Torch.liveTensors());
        return 0;
    }

    /** Composed Fashion-MNIST captions: trains on the seen ones, then scores samples of seen and unseen prompts. */
    private void fashion(boolean micro, double w) throws IOException {
        long seed = seedOption.seed();
        Device dev = deviceOption.device();
        Path dataDir = FashionMnist.locate();
        List<Prompt> prompts = FashionScenes.allPrompts();
        List<Prompt> seen = prompts.stream().filter(p -> !p.unseen()).toList(), unseen = prompts.stream().filter(Prompt::unseen).toList();
        System.out.printf("captions: %d seen (trained on), %d with a held-out object-colour pair (never trained on)%n", seen.size(), unseen.size());
        try (TensorDataset train = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN); TensorDataset test = FashionMnist.load(dataDir, FashionMnist.Split.TEST);
             ImageClassifier judge = SceneJudge.train(train, test, out, dev, seed);
             TextTower text = textTower(prompts.stream().map(Prompt::caption).toList(), dev, seed)) {
            var config = modelConfig(micro);
            try (DiffusionModel<?> net = config.create(dev, seed); DiffusionModel<?> ema = config.create(dev, seed)) {
                System.out.printf("model: %s, %,d parameters%n", net.describe(), net.parameterCount());
                FashionScenes scenes = new FashionScenes(train, seed);
                int[] seenIndex = seen.stream().mapToInt(prompts::indexOf).toArray();
                train(net, ema, micro, text, (random, n) -> {
                    long[] idx = IntStream.range(0, n).mapToLong(i -> seenIndex[random.nextInt(seenIndex.length)]).toArray();
                    return new Batch(scenes.render(IntStream.range(0, n).mapToObj(i -> prompts.get((int) idx[i])).toList()), idx);
                }, dev, seed);
                if (StopSignals.requested()) return; // stopped: the checkpoint is written, no samples
                List<Prompt> evalSeen = draw(seen, evalPrompts, seed + 2), evalUnseen = draw(unseen, evalPrompts, seed + 3);
                List<Prompt> both = new ArrayList<>(evalSeen);
                both.addAll(evalUnseen);
                try (TensorScope s = TensorScope.open()) {
                    Tensor samples = sample(ema, micro, w, text, both.stream().map(Prompt::caption).toList(), dev, seed);
                    CaptionedGrid.write(samples.narrow(0, evalPrompts - 8, 16), both.subList(evalPrompts - 8, evalPrompts + 8).stream().map(Prompt::caption).toList(), 8, out.resolve("grid.png"));
                    FashionScenes real = new FashionScenes(test, seed + 4);
                    Tensor realScenes = real.render(both);
                    int n = evalPrompts;
                    List<String> table = List.of(
                            "| " + (micro ? "MicroDiT" : "U-ViT") + String.format(Locale.ROOT, " (w %.1f, text tower %s) | object | colour | position | all correct |", w,
                                    text.trained() ? "trained" : "frozen"),
                            "|---|---|---|---|---|",
                            SceneJudge.score(samples.narrow(0, 0, n), evalSeen, judge).row("seen prompts"),
                            SceneJudge.score(samples.narrow(0, n, n), evalUnseen, judge).row("unseen prompts"),
                            SceneJudge.score(samples.narrow(0, 0, n), shuffled(evalSeen), judge).row("chance: seen samples judged against other seen prompts"),
                            SceneJudge.score(samples.narrow(0, n, n), shuffled(evalUnseen), judge).row("chance: unseen samples judged against other unseen prompts"),
                            SceneJudge.score(realScenes.narrow(0, n, n), evalUnseen, judge).row("real scenes of the unseen prompts (the judges' ceiling)"));
                    table.forEach(System.out::println);
                    Files.write(out.resolve("table.md"), table);
                }
            }
        }
    }

    /**
     * The prompts of the emoji grid: names and short names trained on, then compositions of
     * trained words that no emoji is captioned with ("red heart": the red heart's Unicode name is
     * "heavy black heart").
     */
    static final List<String> EMOJI_PROMPTS = List.of("grinning face", "blue heart", "large red circle", "pizza", "rocket", "cat face",
            "sun with face", "green apple", "red heart", "blue apple", "green cat face", "orange cat face", "yellow rocket",
            "red pizza", "blue sun", "grinning cat face with heart");

    /** Real captioned images (emoji with their names): trains, then samples a grid of seen and novel prompts. */
    private void emoji(boolean micro, double w) {
        long seed = seedOption.seed();
        Device dev = deviceOption.device();
        Path folder = EmojiCaptions.locate(emojiFolder);
        try (EmojiCaptions emojis = EmojiCaptions.load(folder, FashionScenes.SIZE); TextTower text = textTower(emojis.captions(), dev, seed)) {
            System.out.printf("data: %d emoji from %s at %d px, %d captions (%.1f per image)%n", emojis.size(), folder, FashionScenes.SIZE,
                    emojis.captions().size(), emojis.captions().size() / (double) emojis.size());
            var config = modelConfig(micro);
            try (DiffusionModel<?> net = config.create(dev, seed); DiffusionModel<?> ema = config.create(dev, seed)) {
                System.out.printf("model: %s, %,d parameters%n", net.describe(), net.parameterCount());
                train(net, ema, micro, text, emojis::batch, dev, seed);
                if (StopSignals.requested()) return; // stopped: the checkpoint is written, no samples
                List<String> seen = EMOJI_PROMPTS.stream().filter(emojis.captions()::contains).toList();
                List<String> novel = EMOJI_PROMPTS.stream().filter(p -> !seen.contains(p)).toList();
                System.out.printf("prompts: %d training captions %s, %d novel %s%n", seen.size(), seen, novel.size(), novel);
                try (TensorScope s = TensorScope.open()) {
                    // rows: samples of training captions, the real emoji they name, samples of novel prompts (blank cells fill short rows)
                    Tensor samples = sample(ema, micro, w, text, EMOJI_PROMPTS, dev, seed);
                    int columns = Math.max(1, Math.max(seen.size(), novel.size()));
                    List<Tensor> cells = new ArrayList<>();
                    List<String> captions = new ArrayList<>();
                    for (String p : seen) {
                        cells.add(samples.narrow(0, EMOJI_PROMPTS.indexOf(p), 1));
                        captions.add(p);
                    }
                    blanks(cells, captions, columns);
                    for (String p : seen) {
                        cells.add(emojis.imageCaptioned(p));
                        captions.add("real: " + p);
                    }
                    blanks(cells, captions, columns);
                    for (String p : novel) {
                        cells.add(samples.narrow(0, EMOJI_PROMPTS.indexOf(p), 1));
                        captions.add(p);
                    }
                    CaptionedGrid.write(Tensor.cat(cells, 0), captions, columns, out.resolve("grid.png"));
                }
            }
        }
    }

    /** White uncaptioned cells up to the end of the grid's current row. */
    private static void blanks(List<Tensor> cells, List<String> captions, int columns) {
        while (cells.size() % columns != 0) {
            cells.add(Tensor.ones(new long[] {1, 3, FashionScenes.SIZE, FashionScenes.SIZE}, DType.FLOAT32, Device.CPU));
            captions.add("");
        }
    }

    private TextTower textTower(List<String> captions, Device dev, long seed) {
        ClipTextConfig config = ClipTextConfig.OPENCLIP_VIT_H_14.withName("clip-text-t2i-demo").withContextLength(CONTEXT).withWidth(textWidth)
                .withLayers(textLayers).withHeads(Math.max(1, textWidth / 64)).withMlpWidth(4 * textWidth).withProjectionDim(0);
        ClipTokenizer tokenizer = ClipTokenizer.open(OpenClipVocabularyFile.path()).withContextLength(CONTEXT);
        TextTower tower = new TextTower(config, tokenizer, captions, trainText, lrOption.lr(), GRAD_CLIP, EMA_DECAY, dev, seed + 7);
        System.out.printf("text: %d captions for %s%n", captions.size(), tower.describe());
        return tower;
    }

    private ModelConfig<? extends DiffusionModel<?>> modelConfig(boolean micro) {
        if (micro) {
            return new MicroDiT.Config("MicroDiT-t2i", FashionScenes.SIZE, size.patch(), 3, size.hidden(), size.depth(), 32, 32, textWidth, 1.0, 0.5, 1.0, 0.5, 4.0,
                    1, size.hidden(), 4.0, 4, 2.0, 2);
        }
        return UViT.MSCOCO_S_2.withName("U-ViT-t2i").withImgSize(FashionScenes.SIZE).withPatch(size.patch()).withInChannels(3)
                .withWidth(size.hidden(), Math.max(1, size.hidden() / 64)).withDepth(size.depth()).withContext(textWidth, CONTEXT);
    }

    /** Pixel-space EDM (sigma_data 0.5, EDM's noise levels) for MicroDiT. */
    private static final Edm EDM = new Edm(0.5, -1.2, 1.2);
    private static final double EMA_DECAY = 0.995, GRAD_CLIP = 1;

    /** Draws training batches of {@code n}. */
    interface Batches {
        Batch next(Random random, int n);
    }

    private void train(DiffusionModel<?> net, DiffusionModel<?> ema, boolean micro, TextTower text, Batches batches, Device dev, long seed) {
        Transport transport = objectiveOption.transport(spec);
        TrainingObjective objective = transport != null ? new TransportObjective(transport)
                : micro ? new EdmObjective(EDM, maskRatio, size.patch()) : VpSdeObjective.uvit();
        DiffusionTrainer.Options options = DiffusionTrainer.Options.dit().withLr(lrOption.lr()).withEmaDecay(EMA_DECAY).withSeed(seed).withGradClip(GRAD_CLIP)
                .withConditionDropout(0.1);
        int batch = batchOption.batch();
        Random random = new Random(seed + 1);
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, objective, options)) {
            Progress progress = new Progress(minutesOption.minutes() * 60);
            TrainingLoop.Result run = minutesOption.applyTo(TrainingLoop.builder()).logEvery(25).batchSize(batch)
                    .checkpoint(out.resolve("checkpoint.safetensors")).metadata(transport != null ? transport.metadata()
                            : micro ? Map.of(CheckpointInfo.EDM_SIGMA_DATA, Double.toString(EDM.sigmaData())) : Map.of())
                    .listener(p -> progress.update(p.step(), p.loss(), p.imagesPerSecond()))
                    .stopWhen(StopSignals::requested)
                    .build()
                    .run(trainer, () -> batches.next(random, batch), b -> {
                        Conditioning c = CaptionConditioning.of(net, text.training(b.captions()), micro ? null : text.trainingEmpty());
                        Tensor loss = trainer.trainStep(b.x0().to(dev), c);
                        text.step();
                        return loss;
                    });
            progress.done();
            text.save(out.resolve("text-encoder.safetensors"));
            if (run.stopped()) StopSignals.report("t2i-demo", run.step(), out.resolve("checkpoint.safetensors"));
            System.out.printf("trained %d steps (%d images) in %.0f s%n", run.step(), run.step() * batch, run.seconds());
        }
    }

    /** The sampler of the trained objective: a transport's ODE (Heun over --steps + 1 time points), else the family's. */
    private Sampler sampler(boolean micro) {
        Transport transport = objectiveOption.transport(spec);
        if (transport != null) return TransportSampler.of(transport, false, steps + 1, SamplerSettings.method("heun"));
        return micro ? new EdmSampler(EDM, EdmSampler.Options.microDiT(steps)) : DpmSolverPP.forUViTContinuous(steps);
    }

    /** One guided sample per prompt from the EMA model, in batches. */
    private Tensor sample(DiffusionModel<?> ema, boolean micro, double w, TextTower text, List<String> prompts, Device dev, long seed) {
        ema.eval();
        List<Tensor> parts = new ArrayList<>();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.create(seed + 5, dev);
             Sampler sampler = sampler(micro)) {
            Tensor empty = text.encode(List.of(""));
            for (int from = 0; from < prompts.size(); from += 32) {
                List<String> chunk = prompts.subList(from, Math.min(prompts.size(), from + 32));
                Conditioning c = CaptionConditioning.of(ema, text.encode(chunk), empty);
                Tensor noise = Tensor.randn(new long[] {chunk.size(), 3, FashionScenes.SIZE, FashionScenes.SIZE}, DType.FLOAT32, dev, g);
                parts.add(sampler.sample(ema.guided(c, w), noise, g).clamp(-1, 1).to(Device.CPU));
            }
            return s.keep(Tensor.cat(parts, 0));
        }
    }

    /** Each sample judged against another prompt of its set: what a model that ignores the caption scores. */
    private static List<Prompt> shuffled(List<Prompt> prompts) {
        List<Prompt> out = new ArrayList<>(prompts.subList(1, prompts.size()));
        out.add(prompts.get(0));
        return out;
    }

    private static List<Prompt> draw(List<Prompt> from, int n, long seed) {
        List<Prompt> copy = new ArrayList<>(from);
        java.util.Collections.shuffle(copy, new Random(seed));
        return copy.subList(0, Math.min(n, copy.size()));
    }
}
