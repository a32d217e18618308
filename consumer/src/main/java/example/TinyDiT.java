package example;

import dev.dit4j.models.Conditioning;
import dev.dit4j.models.DiT;
import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.MicroDiT;
import dev.dit4j.models.data.BatchLoader;
import dev.dit4j.models.data.Dataset;
import dev.dit4j.models.family.Recipe;
import dev.dit4j.models.pipeline.DiffusionPipeline;
import dev.dit4j.models.pipeline.SampleRequest;
import dev.dit4j.models.pipeline.Samples;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.text.ClipTextEncoder;
import dev.dit4j.models.text.ClipTokenizer;
import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.models.train.TrainingLoop;
import dev.dit4j.nn.Autograd;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import javax.imageio.ImageIO;

/**
 * dit4j as a user meets it, on the CPU: trains a tiny class-conditional DiT on 16x16 shapes with
 * its family's recipe and samples it through the pipeline, then trains a tiny text-to-image
 * MicroDiT and prompts it through a CLIP text encoder and vocabulary made here. Writes into
 * target/tiny; fails if a file is missing or a tensor leaked.
 */
public class TinyDiT {
    public static void main(String[] args) throws IOException {
        Path out = Files.createDirectories(Path.of("target", "tiny"));
        long tensorsBefore = Torch.liveTensors();
        List<Path> written = new ArrayList<>();

        // 1. A class-conditional DiT (2 blocks, width 64) on grey 16x16 shapes, label = shape.
        DiT.Config dit = DiT.S_2.with(b -> b.name("DiT-tiny").depth(2).hidden(64).heads(4).inChannels(1).inputSize(16).numClasses(3));
        Path ditFile = out.resolve("dit-tiny.safetensors");
        train(dit, new Shapes(300, 1), labels -> Conditioning.labels(labels, 3), ditFile);
        written.add(ditFile);

        // 2. Two samples of each class from the checkpoint, with the recipe's sampler (DDPM) in 20 steps instead of 250.
        try (DiffusionPipeline pipeline = DiffusionPipeline.from(ditFile).load();
             Samples samples = pipeline.sample(SampleRequest.labels(0, 0, 1, 1, 2, 2).withSampler(null, 20))) {
            written.addAll(png(samples, out.resolve("dit")));
        }

        // 3. A text-to-image MicroDiT (1 block, width 64) on RGB shapes with captions, encoded by a tiny CLIP text
        //    encoder (1 layer, width 32, 16 tokens, random weights) over a vocabulary of the captions' words.
        Path vocabulary = Vocabulary.write(out, List.of("a", "red", "green", "blue", "square", "circle", "cross"));
        ClipTokenizer tokenizer = ClipTokenizer.open(vocabulary).withContextLength(16);
        MicroDiT.Config micro = MicroDiT.TINY_2.with(b -> b.name("MicroDiT-tiny").inputSize(16).inChannels(3).dim(64).depth(1)
                .mixerDepth(1).mixerDim(64).captionChannels(32));
        ClipTextConfig clip = micro.family().textEncoder().with(b -> b.name("clip-tiny").vocabSize(tokenizer.vocabulary().size())
                .contextLength(16).width(32).layers(1).heads(1).mlpWidth(128).projectionDim(0));
        Path clipFile = out.resolve("clip-tiny.safetensors"), microFile = out.resolve("microdit-tiny.safetensors");
        Recipe recipe = micro.family().recipe(micro);
        try (ClipTextEncoder encoder = clip.create(Device.CPU, 0)) {
            Safetensors.save(clipFile, encoder.stateDict());
            train(micro, new Shapes(300, 3), labels -> recipe.captions(captions(encoder, tokenizer, labels), null), microFile);
        }
        written.addAll(List.of(vocabulary, clipFile, microFile));

        // 4. Prompt it through the same pipeline, with its text encoder: EDM Heun (the recipe's) in 10 steps.
        try (DiffusionPipeline pipeline = DiffusionPipeline.from(microFile).textEncoder(clipFile, vocabulary).load();
             Samples samples = pipeline.sample(SampleRequest.prompts(List.of("a red square", "a blue cross")).withSampler(null, 10))) {
            written.addAll(png(samples, out.resolve("microdit")));
        }

        for (Path p : written) {
            if (!Files.isRegularFile(p) || Files.size(p) == 0) throw new IllegalStateException(p + " was not written");
            System.out.println("wrote " + p);
        }
        long leaked = Torch.liveTensors() - tensorsBefore;
        if (leaked != 0) throw new IllegalStateException(leaked + " tensors leaked");
    }

    /**
     * Trains {@code config} from scratch for 40 steps with its family's recipe (objective and optimiser; a higher learning
     * rate and a short EMA for so short a run) and writes a checkpoint that records the configuration and the recipe.
     */
    static void train(DiffusionConfig<?> config, Dataset data, Function<Tensor, Conditioning> condition, Path checkpoint) {
        Recipe recipe = config.family().recipe(config);
        DiffusionTrainer.Options options = recipe.options().withLr(1e-3).withEmaDecay(0.9);
        try (DiffusionModel<?> net = config.create(Device.CPU, 0); DiffusionModel<?> ema = config.create(Device.CPU, 0);
             DiffusionTrainer<DiffusionModel<?>> trainer = new DiffusionTrainer<>(net, ema, recipe.objective(), options);
             BatchLoader loader = BatchLoader.builder(data, 32).seed(0).build()) {
            TrainingLoop.builder().steps(40).logEvery(10)
                    .listener(p -> System.out.printf("%s step %d: loss %.4f%n", config.name(), p.step(), p.loss()))
                    .checkpoint(checkpoint).metadata(recipe.metadata())
                    .build()
                    .run(trainer, loader, b -> trainer.trainStep(b.images(), condition.apply(b.labels())));
        }
    }

    /** The captions of a batch's labels, encoded without gradients: the text encoder is not trained. */
    static Tensor captions(ClipTextEncoder encoder, ClipTokenizer tokenizer, Tensor labels) {
        try (var noGrad = Autograd.noGrad()) {
            return encoder.encode(tokenizer, Arrays.stream(labels.toLongArray()).mapToObj(y -> Shapes.CAPTIONS.get((int) y)).toList());
        }
    }

    /** Each sample as a PNG, {@code prefix}-i.png. */
    static List<Path> png(Samples samples, Path prefix) throws IOException {
        List<Path> files = new ArrayList<>();
        List<BufferedImage> images = samples.toImages();
        for (int i = 0; i < images.size(); i++) {
            Path file = Path.of(prefix + "-" + i + ".png");
            ImageIO.write(images.get(i), "png", file.toFile());
            files.add(file);
        }
        return files;
    }
}
