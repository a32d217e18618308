package dev.dit4j.examples;

import dev.dit4j.examples.FashionScenes.Prompt;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.ModelConfig;
import dev.dit4j.models.UViT;
import dev.dit4j.models.data.FashionMnist;
import dev.dit4j.models.data.TensorDataset;
import dev.dit4j.models.diffusion.Edm;
import dev.dit4j.models.sampling.DpmSolverPP;
import dev.dit4j.models.sampling.EdmSampler;
import dev.dit4j.models.sampling.Sampler;
import dev.dit4j.models.text.CaptionConditioning;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.text.OpenClipVocabularyFile;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.EdmObjective;
import dev.dit4j.models.train.TrainingObjective;
import dev.dit4j.models.train.VpSdeObjective;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
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
import picocli.CommandLine.Option;

/**
 * Text-to-image that can be measured, in the spirit of GenEval: captions compose objects, colours
 * and positions over real Fashion-MNIST items ({@link FashionScenes}); a text-to-image model
 * (MicroDiT with deferred masking, or U-ViT's text variant) learns them in pixel space from a small
 * CLIP-architecture text tower (the real CLIP BPE tokenizer, weights frozen at random init: no
 * pretrained encoder can be downloaded here), and samples for seen and held-out compositions are
 * judged by a classifier (object per half) and the mean hue (colour per half).
 */
@Command(name = "t2i-demo", mixinStandardHelpOptions = true,
        description = "Train a small text-to-image MicroDiT (or U-ViT) on composed Fashion-MNIST captions; report prompt following on seen and unseen compositions.")
public final class T2iDemo implements Callable<Integer> {
    /** Tokens per caption: the longest ("a yellow t-shirt right of a yellow trousers") is 13 with start and end. */
    static final int CONTEXT = 16;

    @Option(names = "--model", description = "microdit or uvit (default ${DEFAULT-VALUE})")
    String model = "microdit";

    @Option(names = "--minutes", converter = Numbers.Positive.class, description = "training time budget (default ${DEFAULT-VALUE})")
    double minutes = 12;

    @Option(names = "--batch", converter = Numbers.PositiveInt.class, description = "batch size (default ${DEFAULT-VALUE})")
    int batch = 64;

    @Option(names = "--lr", converter = Numbers.Positive.class, description = "learning rate (default ${DEFAULT-VALUE})")
    double lr = 1e-3;

    @Option(names = "--hidden", converter = Numbers.PositiveInt.class, description = "model width (default ${DEFAULT-VALUE})")
    int hidden = 128;

    @Option(names = "--depth", converter = Numbers.PositiveInt.class, description = "blocks (default ${DEFAULT-VALUE})")
    int depth = 4;

    @Option(names = "--patch", converter = Numbers.PositiveInt.class, description = "patch size (default ${DEFAULT-VALUE})")
    int patch = 4;

    @Option(names = "--mask-ratio", converter = Numbers.Fraction.class, description = "MicroDiT's deferred masking ratio (default ${DEFAULT-VALUE})")
    double maskRatio = 0.5;

    @Option(names = "--text-width", converter = Numbers.PositiveInt.class, description = "text tower width (default ${DEFAULT-VALUE})")
    int textWidth = 128;

    @Option(names = "--text-layers", converter = Numbers.PositiveInt.class, description = "text tower layers (default ${DEFAULT-VALUE})")
    int textLayers = 2;

    @Option(names = "--steps", converter = Numbers.PositiveInt.class, description = "sampling steps: EDM Heun for MicroDiT, DPM-Solver++ for U-ViT (default ${DEFAULT-VALUE})")
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

    /** Prompt-following scores: shares of items with the right object and colour, of scenes in the stated arrangement, of scenes wholly right. */
    record Score(double object, double colour, double position, double all) {
        String row(String name) {
            return String.format(Locale.ROOT, "| %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% |", name, 100 * object, 100 * colour, 100 * position, 100 * all);
        }
    }

    /** The output folder. */
    private Path out;

    @Override
    public Integer call() throws IOException {
        long start = System.nanoTime(), seed = seedOption.seed();
        boolean micro = switch (model.toLowerCase(Locale.ROOT)) {
            case "microdit" -> true;
            case "uvit", "u-vit" -> false;
            default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "unknown --model '" + model + "': expected microdit or uvit");
        };
        double w = cfg != null ? cfg : micro ? EdmSampler.DEFAULT_GUIDANCE : 3;
        Device dev = deviceOption.device();
        out = outOption.dir();
        Files.createDirectories(out);
        Path data = FashionMnist.locate();
        List<Prompt> prompts = FashionScenes.allPrompts();
        List<Prompt> seen = prompts.stream().filter(p -> !p.unseen()).toList(), unseen = prompts.stream().filter(Prompt::unseen).toList();
        System.out.printf("captions: %d seen (trained on), %d with a held-out object-colour pair (never trained on)%n", seen.size(), unseen.size());
        try (TensorDataset train = FashionMnist.load(data, FashionMnist.Split.TRAIN); TensorDataset test = FashionMnist.load(data, FashionMnist.Split.TEST);
             ImageClassifier judge = trainJudge(train, test, dev, seed);
             Tensor captions = encodeCaptions(prompts, dev, seed)) {
            Tensor empty = captions.narrow(0, prompts.size(), 1);
            var config = modelConfig(micro);
            try (DiffusionModel<?> net = config.create(dev, seed); DiffusionModel<?> ema = config.create(dev, seed)) {
                System.out.printf("model: %s, %,d parameters%n", net.describe(), net.parameterCount());
                FashionScenes scenes = new FashionScenes(train, seed);
                train(net, ema, micro, scenes, prompts, seen, captions, empty, dev, seed);
                List<Prompt> evalSeen = draw(seen, evalPrompts, seed + 2), evalUnseen = draw(unseen, evalPrompts, seed + 3);
                List<Prompt> both = new ArrayList<>(evalSeen);
                both.addAll(evalUnseen);
                try (TensorScope s = TensorScope.open()) {
                    Tensor samples = sample(ema, micro, w, both, prompts, captions, empty, dev, seed);
                    CaptionedGrid.write(samples.narrow(0, evalPrompts - 8, 16), both.subList(evalPrompts - 8, evalPrompts + 8).stream().map(Prompt::caption).toList(), 8, out.resolve("grid.png"));
                    FashionScenes real = new FashionScenes(test, seed + 4);
                    Tensor realScenes = real.render(both);
                    int n = evalPrompts;
                    List<String> table = List.of(
                            "| " + (micro ? "MicroDiT" : "U-ViT") + String.format(Locale.ROOT, " (w %.1f) | object | colour | position | all correct |", w),
                            "|---|---|---|---|---|",
                            score(samples.narrow(0, 0, n), evalSeen, judge).row("seen prompts"),
                            score(samples.narrow(0, n, n), evalUnseen, judge).row("unseen prompts"),
                            score(samples.narrow(0, 0, n), shuffled(evalSeen), judge).row("chance: seen samples judged against other seen prompts"),
                            score(samples.narrow(0, n, n), shuffled(evalUnseen), judge).row("chance: unseen samples judged against other unseen prompts"),
                            score(realScenes.narrow(0, n, n), evalUnseen, judge).row("real scenes of the unseen prompts (the judges' ceiling)"));
                    table.forEach(System.out::println);
                    Files.write(out.resolve("table.md"), table);
                }
            }
        }
        System.out.printf("wrote grid.png, table.md, checkpoint.safetensors and text-encoder.safetensors to %s in %.0f s; live tensors %d%n", out,
                seconds(start), Torch.liveTensors());
        return 0;
    }

    private ModelConfig<? extends DiffusionModel<?>> modelConfig(boolean micro) {
        if (micro) {
            return new MicroDiT.Config("MicroDiT-t2i", FashionScenes.SIZE, patch, 3, hidden, depth, 32, 32, textWidth, 1.0, 0.5, 1.0, 0.5, 4.0,
                    1, hidden, 4.0, 4, 2.0, 2);
        }
        return UViT.MSCOCO_S_2.withName("U-ViT-t2i").withImgSize(FashionScenes.SIZE).withPatch(patch).withInChannels(3)
                .withWidth(hidden, Math.max(1, hidden / 64)).withDepth(depth).withContext(textWidth, CONTEXT);
    }

    /** Pixel-space EDM (sigma_data 0.5, EDM's noise levels) for MicroDiT. */
    private static final Edm EDM = new Edm(0.5, -1.2, 1.2);

    private void train(DiffusionModel<?> net, DiffusionModel<?> ema, boolean micro, FashionScenes scenes, List<Prompt> prompts, List<Prompt> seen,
                       Tensor captions, Tensor empty, Device dev, long seed) {
        TrainingObjective objective = micro ? new EdmObjective(EDM, maskRatio, patch) : VpSdeObjective.uvit();
        DiffusionTrainer.Options options = DiffusionTrainer.Options.dit().withLr(lr).withEmaDecay(0.995).withSeed(seed).withGradClip(1)
                .withConditionDropout(0.1);
        int[] seenIndex = seen.stream().mapToInt(prompts::indexOf).toArray();
        Random random = new Random(seed + 1);
        try (DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, objective, options)) {
            long trainStart = System.nanoTime();
            double budget = minutes * 60;
            Progress progress = new Progress(budget);
            while (seconds(trainStart) < budget) {
                try (TensorScope s = TensorScope.open()) {
                    long[] idx = IntStream.range(0, batch).mapToLong(i -> seenIndex[random.nextInt(seenIndex.length)]).toArray();
                    Tensor x0 = scenes.render(IntStream.range(0, batch).mapToObj(i -> prompts.get((int) idx[i])).toList()).to(dev);
                    Conditioning c = CaptionConditioning.of(net, captions.indexSelect(0, Tensor.of(idx, batch).to(dev)), empty);
                    Tensor loss = trainer.trainStep(x0, c);
                    if (trainer.step() % 25 == 0) progress.update(trainer.step(), loss.item(), trainer.step() * batch / seconds(trainStart));
                }
            }
            progress.done();
            trainer.save(out.resolve("checkpoint.safetensors"), micro ? Map.of(PromptSample.SIGMA_DATA, Double.toString(EDM.sigmaData())) : Map.of());
            System.out.printf("trained %d steps (%d scenes) in %.0f s%n", trainer.step(), trainer.step() * batch, seconds(trainStart));
        }
    }

    /** One guided sample per prompt from the EMA model, in batches. */
    private Tensor sample(DiffusionModel<?> ema, boolean micro, double w, List<Prompt> wanted, List<Prompt> prompts, Tensor captions, Tensor empty,
                          Device dev, long seed) {
        ema.eval();
        List<Tensor> parts = new ArrayList<>();
        try (TensorScope s = TensorScope.open(); Generator g = Generator.create(seed + 5, dev);
             Sampler sampler = micro ? new EdmSampler(EDM, EdmSampler.Options.microDiT(steps)) : DpmSolverPP.forUViTContinuous(steps)) {
            for (int from = 0; from < wanted.size(); from += 32) {
                List<Prompt> chunk = wanted.subList(from, Math.min(wanted.size(), from + 32));
                long[] idx = chunk.stream().mapToLong(prompts::indexOf).toArray();
                Conditioning c = CaptionConditioning.of(ema, captions.indexSelect(0, Tensor.of(idx, idx.length).to(dev)), empty);
                Tensor noise = Tensor.randn(new long[] {idx.length, 3, FashionScenes.SIZE, FashionScenes.SIZE}, DType.FLOAT32, dev, g);
                parts.add(sampler.sample(ema.guided(c, w), noise, g).clamp(-1, 1).to(Device.CPU));
            }
            return s.keep(Tensor.cat(parts, 0));
        }
    }

    /**
     * The caption embeddings of every prompt, then the empty caption's: [P + 1, CONTEXT, width],
     * from a small OpenCLIP-layout text tower at its seeded random initialisation (frozen).
     */
    private Tensor encodeCaptions(List<Prompt> prompts, Device dev, long seed) {
        ClipTextConfig text = ClipTextConfig.OPENCLIP_VIT_H_14.withName("clip-text-t2i-demo").withContextLength(CONTEXT).withWidth(textWidth)
                .withLayers(textLayers).withHeads(Math.max(1, textWidth / 64)).withMlpWidth(4 * textWidth).withProjectionDim(0);
        ClipTokenizer tokenizer = ClipTokenizer.open(OpenClipVocabularyFile.path()).withContextLength(CONTEXT);
        List<String> all = new ArrayList<>(prompts.stream().map(Prompt::caption).toList());
        all.add("");
        try (ClipTextEncoder encoder = text.create(dev, seed + 7); var g = Autograd.noGrad(); TensorScope s = TensorScope.open()) {
            encoder.eval();
            Safetensors.save(out.resolve("text-encoder.safetensors"), encoder.stateDict(), Map.of("heads", Integer.toString(text.heads())));
            List<Tensor> parts = new ArrayList<>();
            for (int from = 0; from < all.size(); from += 256) parts.add(encoder.encode(tokenizer, all.subList(from, Math.min(all.size(), from + 256))));
            System.out.printf("text: %d captions encoded by %s (width %d, %d layers, random init, frozen), CLIP BPE vocabulary%n",
                    all.size(), text.name(), textWidth, textLayers);
            return s.keep(Tensor.cat(parts, 0));
        }
    }

    /**
     * The judge: the example's classifier on items seen as the judge sees generated halves (16x16,
     * grey, repeated to 32x32), one epoch over the objects' training images; kept in the output
     * folder (judge.safetensors) and reused by later runs there.
     */
    private ImageClassifier trainJudge(TensorDataset train, TensorDataset test, Device dev, long seed) {
        Path file = out.resolve("judge.safetensors");
        boolean saved = Files.exists(file);
        ImageClassifier judge = saved ? ImageClassifier.load(file, FashionScenes.CLASSES.length, dev)
                : ImageClassifier.create(1, FashionScenes.CLASSES.length, dev, seed);
        try (TensorScope s = TensorScope.open()) {
            if (!saved) {
                Tensor[] tr = judgeSet(train, JUDGE_IMAGES);
                judge.fit(tr[0].to(dev), tr[1].to(dev), 1, 128, 1e-3, seed);
                judge.save(file);
            }
            Tensor[] te = judgeSet(test, Integer.MAX_VALUE);
            System.out.printf("judge%s: %.1f%% test accuracy over the %d objects%n", saved ? " (" + file + ")" : "",
                    100 * judge.accuracy(te[0].to(dev), te[1].to(dev), 500), FashionScenes.CLASSES.length);
        }
        return judge;
    }

    /** Training images per object for the judge (a CPU budget: one epoch over them takes a minute on 2 shared cores). */
    private static final int JUDGE_IMAGES = 1500;

    /** Up to {@code perObject} images of each chosen class as the judge sees them, labels renumbered to object indices. */
    private static Tensor[] judgeSet(TensorDataset data, int perObject) {
        long[] labels = data.labels().toLongArray();
        List<Long> rows = new ArrayList<>(), objects = new ArrayList<>();
        int[] taken = new int[FashionScenes.CLASSES.length];
        for (int i = 0; i < labels.length; i++) {
            for (int o = 0; o < FashionScenes.CLASSES.length; o++) {
                if (labels[i] == FashionScenes.CLASSES[o] && taken[o]++ < perObject) {
                    rows.add((long) i);
                    objects.add((long) o);
                }
            }
        }
        Tensor index = Tensor.of(rows.stream().mapToLong(Long::longValue).toArray(), rows.size());
        Tensor images = FashionScenes.upsampled(FashionScenes.halved(data.images().indexSelect(0, index)));
        return new Tensor[] {images, Tensor.of(objects.stream().mapToLong(Long::longValue).toArray(), objects.size())};
    }

    static Score score(Tensor scenes, List<Prompt> prompts, ImageClassifier judge) {
        long[] left, right;
        try (TensorScope s = TensorScope.open()) {
            Device dev = judge.namedParameters().values().iterator().next().device();
            left = judge.predict(FashionScenes.judgeView(scenes, 0).to(dev), 100);
            right = judge.predict(FashionScenes.judgeView(scenes, 1).to(dev), 100);
        }
        float[] rgb = scenes.toFloatArray();
        double objects = 0, colours = 0, positions = 0, all = 0;
        for (int i = 0; i < prompts.size(); i++) {
            Prompt p = prompts.get(i);
            int lc = FashionScenes.colourOf(rgb, i, 0), rc = FashionScenes.colourOf(rgb, i, 1);
            int obj = hit(left[i], p.left().object()) + hit(right[i], p.right().object());
            int col = hit(lc, p.left().colour()) + hit(rc, p.right().colour());
            int swapped = hit(left[i], p.right().object()) + hit(right[i], p.left().object()) + hit(lc, p.right().colour()) + hit(rc, p.left().colour());
            objects += obj / 2.0;
            colours += col / 2.0;
            positions += obj + col > swapped ? 1 : 0;
            all += obj + col == 4 ? 1 : 0;
        }
        int n = prompts.size();
        return new Score(objects / n, colours / n, positions / n, all / n);
    }

    private static int hit(long got, int want) {
        return got == want ? 1 : 0;
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

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
