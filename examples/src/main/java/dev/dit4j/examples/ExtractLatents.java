package dev.dit4j.examples;

import dev.dit4j.examples.options.BatchOption;
import dev.dit4j.examples.options.DeviceOption;
import dev.dit4j.examples.options.Numbers;
import dev.dit4j.examples.options.OutputDirOption;
import dev.dit4j.examples.options.OutputPaths;
import dev.dit4j.examples.options.SeedOption;
import dev.dit4j.models.data.LatentExtraction;
import dev.dit4j.models.data.LatentFiles;
import dev.dit4j.models.text.ClipTextConfig;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.Torch;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Encodes an ImageFolder (class subfolders) into latent shards that {@code train-latents} reads
 * ({@link LatentExtraction}, {@link LatentFiles}: 'latents' already multiplied by the
 * autoencoder's scale, 'labels'): each image given ADM's center crop at --image-size, decoded on
 * several threads while the previous batch is encoded, its latent the posterior mean or a sample
 * of it. Flips as the authors store them: fast-DiT's extract_features.py draws one random
 * horizontal flip per image, once, and stores that latent ({@code random}); U-ViT's
 * extract_imagenet_feature.py stores the image and its mirror as two samples ({@code both}).
 * Shards are written atomically and numbered by their first image, so an interrupted run resumes
 * at the first missing shard.
 *
 * <p>With {@code --captions} (text-to-image, as MicroDiT's and U-ViT's authors precompute their
 * data), --images is a folder of images with same-stem .txt captions (one a line: several lines,
 * several captions) or a JSONL/CSV manifest ({@link dev.dit4j.models.data.CaptionedImages}), and each shard also holds
 * every caption's hidden states from a CLIP text encoder, float16, and the empty caption's
 * ({@link LatentFiles}: 'captions', 'caption_counts', 'empty_caption'); train-latents draws one
 * caption per image per epoch.
 */
@Command(name = "extract-latents", mixinStandardHelpOptions = true, resourceBundle = "dev.dit4j.examples.ExtractLatents",
        description = "Encode an ImageFolder into latent shards (safetensors 'latents' and 'labels'; with --captions, also caption embeddings) for train-latents.")
public final class ExtractLatents implements Callable<Integer> {
    @Option(names = "--images", required = true, description = "ImageFolder root: one subfolder of PNG/JPEG files per class"
            + " (with --captions: images with same-stem .txt captions, or a .jsonl/.csv manifest)")
    Path images;

    @Option(names = "--captions", description = "store each image's caption embeddings beside its latent (needs --text-encoder)")
    boolean captions;

    @Option(names = "--text-encoder", description = "the CLIP text encoder for --captions (.safetensors/.pt: transformers' or open_clip's layout)")
    Path textEncoder;

    @Option(names = "--vocab", description = "the CLIP BPE vocabulary (bpe_simple_vocab_16e6.txt.gz, vocab.json + merges.txt, tokenizer.json) (default: open_clip's)")
    Path vocab;

    @Option(names = "--text-preset", description = "clip-vit-l-14-text or openclip-vit-h-14-text (default: by the weights' layout)")
    String textPreset;

    @Option(names = "--vae", required = true, description = "the autoencoder's weights (diffusers or LDM layout)")
    Path vae;

    @Option(names = "--vae-scale", converter = Numbers.Positive.class, description = "latent scale factor (default: the autoencoder's, 0.18215 for SD's)")
    Double vaeScale;

    @Option(names = "--vae-sample", description = "store a sample of each posterior (fast-DiT) instead of its mean")
    boolean vaeSample;

    @Option(names = "--image-size", converter = Numbers.PositiveInt.class, description = "center-crop side in pixels (default ${DEFAULT-VALUE})")
    int imageSize = 256;

    @Option(names = "--flip", converter = FlipParser.class, description = "random (fast-DiT), both (U-ViT) or none (default random)")
    LatentExtraction.Flip flip = LatentExtraction.Flip.RANDOM;

    @Option(names = "--shard-size", converter = Numbers.PositiveInt.class, description = "images per shard (default ${DEFAULT-VALUE})")
    int shardSize = 1024;

    @Option(names = "--workers", converter = Numbers.PositiveInt.class, description = "image decoding threads (default: the processors)")
    Integer workers;

    @Mixin
    BatchOption batchOption = new BatchOption(32);

    @Mixin
    SeedOption seedOption = new SeedOption();

    @Mixin
    DeviceOption deviceOption = new DeviceOption();

    @Mixin
    OutputDirOption outOption = new OutputDirOption(Path.of("out", "latents-data"));

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        Path out = outOption.dir();
        OutputPaths.requireFolder(spec, "--out", out);
        OutputPaths.requireDistinct(spec, "--out", out, "--images", images);
        if (captions && textEncoder == null) throw new ParameterException(spec.commandLine(), "--captions needs --text-encoder: the CLIP text encoder to embed them with");
        if (!captions && textEncoder != null) throw new ParameterException(spec.commandLine(), "--text-encoder is for --captions");
        LatentExtraction.Options options = LatentExtraction.Options.defaults().withImageSize(imageSize).withFlip(flip).withSampleLatents(vaeSample)
                .withScale(vaeScale).withShardSize(shardSize).withBatch(batchOption.batch()).withSeed(seedOption.seed())
                .withWorkers(workers != null ? workers : Runtime.getRuntime().availableProcessors()).withDevice(deviceOption.deviceForAutoencoder());
        int factor = AutoencoderKL.Config.inferFrom(vae).downsampling();
        if (imageSize % factor != 0) {
            throw new ParameterException(spec.commandLine(), "--image-size " + imageSize + " is not divisible by " + factor + ", the autoencoder's downsampling");
        }
        LatentExtraction extraction = captions
                ? LatentExtraction.captioned(images, vae, new LatentExtraction.TextEncoder(textEncoder, vocab != null ? vocab : OpenClipVocabularyFile.path(),
                        textPreset != null ? ClipTextConfig.PRESETS.get(textPreset) : null), out, options)
                : LatentExtraction.of(images, vae, out, options);
        var data = extraction.data();
        var config = extraction.autoencoder();
        long[] latent = extraction.latentShape();
        if (captions) System.out.printf("captions: %d for %d images, embedded by %s (%d tokens x %d)%n", extraction.captionCount(), data.size(),
                textEncoder, extraction.captionTokens(), extraction.textEncoder().width());
        System.out.printf("%d images in %d classes from %s at %d px -> %d x %d x %d latents (%s, scale %s, flip %s), %d shards in %s%n",
                data.size(), data.classes().size(), images, imageSize, latent[0], latent[1], latent[2], vaeSample ? "sampled" : "mean",
                config.scalingFactor(), flip.flag(), extraction.shards(), out);
        Progress progress = Progress.ofCount(data.size(), "images");
        LatentExtraction.Result result = extraction.run(new LatentExtraction.Listener() {
            @Override
            public void started(int encoded, int total) {
                if (encoded > 0) System.out.printf("resuming: %d of %d images already encoded in %s%n", encoded, total, out);
                progress.at(encoded);
            }

            @Override
            public void progress(int encoded, int total) {
                progress.at(encoded);
            }
        });
        progress.done();
        System.out.printf("wrote %d shards to %s; train with: ./dit4j train-latents --latents %s --model ...; live tensors %d%n",
                result.shards(), out, out, Torch.liveTensors());
        return 0;
    }

    /** {@code --flip}: none, random or both. */
    static final class FlipParser implements picocli.CommandLine.ITypeConverter<LatentExtraction.Flip> {
        @Override
        public LatentExtraction.Flip convert(String text) {
            try {
                return LatentExtraction.Flip.parse(text);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
