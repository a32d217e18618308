package dev.dit4j.examples;

import dev.dit4j.models.pipeline.DiffusionPipeline;
import dev.dit4j.models.pipeline.SampleRequest;
import dev.dit4j.models.pipeline.Samples;
import dev.dit4j.nn.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One sampling run of a pipeline into a folder ({@link SampleFiles}): the batches whose outputs
 * all exist are skipped, the others sampled and written, then the grid (captioned for prompts),
 * the .npz and the joined latents are written from the files.
 */
final class SampleRun {
    /** Images in the grid at most. */
    private static final int GRID_LIMIT = 64;

    private final DiffusionPipeline pipeline;
    private final SampleRequest request;
    private final SampleFiles files;
    private final Path latentsFile, npz;
    private final boolean images;

    SampleRun(DiffusionPipeline pipeline, SampleRequest request, SampleFiles files, Path latentsFile, Path npz) {
        this.pipeline = pipeline;
        this.request = request;
        this.files = files;
        this.latentsFile = latentsFile;
        this.npz = npz;
        this.images = pipeline.producesImages();
    }

    void checkSettings(Map<String, String> settings) {
        files.checkSettings(settings);
    }

    void all() {
        int count = request.count();
        Progress progress = Progress.ofCount(count, "images");
        // Batches already complete (a resumed run) are found as the run reaches them: no list of
        // every batch, so a count near Integer.MAX_VALUE costs no memory and starts at once.
        int done = 0;
        boolean told = false;
        for (int b = 0; b < request.batches(); b++) {
            if (complete(b)) {
                done += request.size(b);
                continue;
            }
            if (done > 0 && !told) System.out.printf("resuming: %d of %d images already in %s%n", done, count, files.dir());
            if (!told) progress.at(done);
            told = true;
            try (Samples s = pipeline.sampleBatch(request, b)) {
                if (latentsFile != null) files.writeShard(b, s.latents(), s.labels(), Map.of("seed", Long.toString(SampleRequest.batchSeed(request.seed(), b))));
                if (images) files.writeImages(request.first(b), s.images());
            }
            done += request.size(b);
            progress.at(done);
        }
        if (!told && done > 0) {
            System.out.printf("resuming: %d of %d images already in %s%n", done, count, files.dir());
            progress.at(done);
        }
        progress.done();
        List<String> wrote = new ArrayList<>();
        if (images) {
            int shown = Math.min(count, GRID_LIMIT);
            files.writeGrid(shown);
            wrote.add(count + " PNGs in " + files.imageDir() + ", " + files.grid());
            if (request.prompts() != null) {
                Path captioned = files.dir().resolve("prompts.png");
                try (Tensor cells = files.readImages(shown)) {
                    List<String> captions = new ArrayList<>();
                    for (int i = 0; i < shown; i++) captions.add(request.prompts().get(i % request.prompts().size()));
                    CaptionedGrid.write(cells, captions, Math.min(8, shown), captioned);
                }
                wrote.add(captioned.toString());
            }
            if (npz != null) {
                files.writeNpz(npz, count);
                wrote.add(npz.toString());
            }
        }
        if (latentsFile != null) {
            files.joinLatents(latentsFile, request.batches(), count);
            wrote.add(latentsFile.toString());
        }
        System.out.println("wrote " + String.join(", ", wrote));
    }

    private boolean complete(int b) {
        if (latentsFile != null && !files.hasShard(b, request.size(b))) return false;
        if (images) for (int i = request.first(b); i < request.first(b) + request.size(b); i++) if (!Files.exists(files.image(i))) return false;
        return true;
    }
}
