package dev.dit4j.examples;

import static dev.dit4j.examples.SampleRefusals.assertRefused;
import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.DiffusionConfig;
import dev.dit4j.models.DiffusionModel;
import dev.dit4j.models.vae.AutoencoderKL;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sample} against the authors' chain (examples/src/test/python/make_sample_fixtures.py:
 * DiT's sample.py and sample_ddp.py on a depth-1 DiT-S/2 with seeded weights), latents-only
 * output, resuming, the .npz format and the refusals of bad input.
 */
class SampleTest {
    @TempDir
    Path dir;

    private static Safetensors.Contents fixture() throws Exception {
        return Safetensors.read(Path.of(SampleTest.class.getResource("/fixtures/sample_dit.safetensors").toURI()));
    }

    /** The fixture's DiT weights: torch.randn in state-dict order from a CPU generator, checked against the script's sums. */
    private Path authorsWeights(Safetensors.Contents fx) {
        var config = config("DiT-S/2", 1, null, 4, Integer.parseInt(fx.metadata().get("latent")));
        return seededWeights(fx, config, "", dir.resolve("dit.safetensors"));
    }

    private Path seededWeights(Safetensors.Contents fx, dev.dit4j.models.ModelConfig<? extends DiffusionModel<?>> config, String prefix, Path file) {
        Map<String, String> meta = fx.metadata();
        long seed = Long.parseLong(meta.get("weight_seed"));
        double std = Double.parseDouble(meta.get("weight_std"));
        double[] sums = fx.tensors().get(prefix + "weight_sums").toDoubleArray();
        try (TensorScope s = TensorScope.open(); DiffusionModel<?> net = config.create(Device.CPU, 0); Generator g = Generator.cpu(seed)) {
            Map<String, Tensor> own = net.stateDict();
            List<String> keys = List.of(meta.get(prefix + "keys").split(","));
            assertEquals(keys, List.copyOf(own.keySet()), "state-dict keys and their order are the reference's");
            Map<String, Tensor> weights = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                Tensor w = Tensor.randn(own.get(keys.get(i)).shape(), DType.FLOAT32, Device.CPU, g).mul(std);
                assertEquals(sums[i], w.to(DType.FLOAT64).sum().item(), 1e-9 * Math.max(1, Math.abs(sums[i])), keys.get(i));
                weights.put(keys.get(i), w);
            }
            Safetensors.save(file, weights);
        }
        return file;
    }

    /** The preset {@code name} for inputs of channels x side x side, at {@code depth} with {@code classes} (null: the preset's). */
    private static DiffusionConfig<?> config(String name, Integer depth, Integer classes, int channels, int side) {
        return DiffusionConfig.preset(name).resized(channels, side).overridden(depth, classes);
    }

    private int sample(String... args) {
        return new CommandLine(new Sample()).execute(args);
    }

    private static double relativeL2(Tensor actual, Tensor expected) {
        try (TensorScope s = TensorScope.open()) {
            assertArrayEquals(expected.shape(), actual.shape());
            Tensor a = actual.to(DType.FLOAT64), b = expected.to(DType.FLOAT64);
            return a.sub(b).norm(2, null, false).item() / b.norm(2, null, false).item();
        }
    }

    /** Samples one fixture case; returns its relative L2 distance to the authors' latents. */
    private double caseError(Safetensors.Contents fx, Path weights, String name, String... options) {
        Path out = dir.resolve(name), latents = dir.resolve(name + ".safetensors");
        List<String> args = new ArrayList<>(List.of("--model", "DiT-S/2", "--depth", "1", "--weights", weights.toString(),
                "--steps", "10", "--out", out.toString(), "--latents-out", latents.toString()));
        args.addAll(List.of(options));
        assertEquals(0, sample(args.toArray(String[]::new)), name);
        try (Safetensors.Contents got = Safetensors.read(latents)) {
            assertArrayEquals(fx.tensors().get(name + ".labels").toLongArray(), got.tensors().get("labels").toLongArray(), name + " labels");
            return relativeL2(got.tensors().get("latents"), fx.tensors().get(name + ".latents"));
        }
    }

    @Test
    void sameSeedSameLatentsAsTheAuthorsChain() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents fx = fixture()) {
            Path w = authorsWeights(fx);
            double samplePy = caseError(fx, w, "sample_py", "--seed", "5", "--labels", "207,360", "--cfg", "4");
            double sampleDdp = caseError(fx, w, "sample_ddp", "--seed", "9", "--count", "3", "--cfg", "1.5");
            double plain = caseError(fx, w, "no_guidance", "--seed", "11", "--labels", "1,999", "--cfg", "1");
            double ddim = caseError(fx, w, "ddim", "--seed", "13", "--labels", "42,7", "--cfg", "4", "--sampler", "ddim");
            System.out.printf("sample vs the authors' chain, relative L2: sample.py %.2e, sample_ddp.py %.2e, no guidance %.2e, ddim %.2e%n",
                    samplePy, sampleDdp, plain, ddim);
            assertTrue(samplePy < 1e-4, "sample.py chain: " + samplePy);
            assertTrue(sampleDdp < 1e-4, "sample_ddp.py chain (random labels after the noise): " + sampleDdp);
            assertTrue(plain < 1e-4, "unguided chain: " + plain);
            assertTrue(ddim < 1e-4, "DDIM chain: " + ddim);
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void sameSeedSameLatentsAsUViTsDiscreteChain() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents fx = fixture()) {
            // U-ViT's eval_ldm_discrete.py: random labels drawn before z, DPM-Solver++ on the discrete SD schedule, its guidance form.
            Path uvit = seededWeights(fx, config("cifar10_uvit_small", 2, 10, 3, 8), "uvit.", dir.resolve("uvit.safetensors"));
            Path latents = dir.resolve("uvit-latents.safetensors");
            assertEquals(0, sample("--model", "cifar10_uvit_small", "--depth", "2", "--classes", "10", "--weights", uvit.toString(),
                    "--count", "2", "--seed", "17", "--steps", "3", "--uvit-time", "discrete", "--cfg", "1.4",
                    "--latents-out", latents.toString(), "--out", dir.resolve("uvit").toString()));
            try (Safetensors.Contents got = Safetensors.read(latents)) {
                assertArrayEquals(fx.tensors().get("uvit.labels").toLongArray(), got.tensors().get("labels").toLongArray(), "U-ViT labels");
                double err = relativeL2(got.tensors().get("latents"), fx.tensors().get("uvit.latents"));
                System.out.printf("sample vs U-ViT's eval_ldm_discrete.py chain, relative L2 %.2e%n", err);
                assertTrue(err < 1e-4, "U-ViT chain: " + err);
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void anotherLabelOrSeedIsAnotherPicture() throws Exception {
        try (Safetensors.Contents fx = fixture()) {
            Path w = authorsWeights(fx);
            Path out = dir.resolve("other");
            assertEquals(0, sample("--model", "DiT-S/2", "--depth", "1", "--weights", w.toString(), "--steps", "10", "--seed", "6",
                    "--labels", "207,360", "--out", out.toString()));
            try (Safetensors.Contents got = Safetensors.read(out.resolve("latents.safetensors"))) {
                assertTrue(relativeL2(got.tensors().get("latents"), fx.tensors().get("sample_py.latents")) > 1e-2,
                        "seed 6 is not seed 5's picture: the parity test can fail");
            }
            assertFalse(Files.exists(out.resolve("images")), "without an autoencoder a latent model writes latents only");
        }
    }

    /** A pixel-space model (3 channels): its samples are the images. Random weights, 8x8 pixels. */
    private Path pixelWeights() {
        return randomWeights(3);
    }

    private Path randomWeights(int channels) {
        Path file = dir.resolve("random" + channels + ".safetensors");
        var config = config("DiT-S/2", 1, 10, channels, 8);
        try (DiffusionModel<?> net = config.create(Device.CPU, 3)) {
            Safetensors.save(file, net.stateDict());
        }
        return file;
    }

    private String[] pixelRun(Path weights, Path out, int count, String... extra) {
        List<String> args = new ArrayList<>(List.of("--model", "DiT-S/2", "--depth", "1", "--classes", "10", "--weights", weights.toString(),
                "--steps", "4", "--batch", "2", "--count", Integer.toString(count), "--seed", "3", "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void resumesWhereItStoppedWithTheSamePictures() throws Exception {
        long live = Torch.liveTensors();
        Path w = pixelWeights();
        Path once = dir.resolve("once"), twice = dir.resolve("twice");
        assertEquals(0, sample(pixelRun(w, once, 5, "--latents-out", dir.resolve("once.safetensors").toString())));
        assertEquals(0, sample(pixelRun(w, twice, 3, "--latents-out", dir.resolve("twice.safetensors").toString())));
        long firstWritten = Files.getLastModifiedTime(twice.resolve("images/000000.png")).toMillis();
        Files.delete(twice.resolve("images/000002.png")); // as if killed before batch 1 was complete
        Thread.sleep(20);
        assertEquals(0, sample(pixelRun(w, twice, 5, "--latents-out", dir.resolve("twice.safetensors").toString(),
                "--npz", dir.resolve("twice.npz").toString())));
        assertEquals(firstWritten, Files.getLastModifiedTime(twice.resolve("images/000000.png")).toMillis(), "batch 0 was not sampled again");
        for (int i = 0; i < 5; i++) {
            String png = String.format("images/%06d.png", i);
            assertArrayEquals(Files.readAllBytes(once.resolve(png)), Files.readAllBytes(twice.resolve(png)), png + " is the one-run picture");
        }
        try (Safetensors.Contents a = Safetensors.read(dir.resolve("once.safetensors")); Safetensors.Contents b = Safetensors.read(dir.resolve("twice.safetensors"))) {
            assertEquals(0, relativeL2(b.tensors().get("latents"), a.tensors().get("latents")), "resumed latents are the one-run latents");
            assertEquals(5, b.tensors().get("latents").size(0));
        }
        assertTrue(Files.exists(twice.resolve("grid.png")));
        checkNpz(dir.resolve("twice.npz"), twice, 5, 8);
        String[] otherSeed = pixelRun(w, twice, 5);
        otherSeed[otherSeed.length - 3] = "4";
        Sample cmd = new Sample();
        new CommandLine(cmd).parseArgs(otherSeed);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, cmd::call);
        assertTrue(e.getMessage().contains("another run") && e.getMessage().contains("seed 3 there, 4 now"), e.getMessage());
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void uvitAndUditSampleWithTheirAuthorsSamplers() throws Exception {
        long live = Torch.liveTensors();
        Path uvit = dir.resolve("uvit.safetensors");
        try (DiffusionModel<?> net = config("cifar10_uvit_small", 2, 10, 3, 8).create(Device.CPU, 1)) {
            Safetensors.save(uvit, net.stateDict());
        }
        for (String time : List.of("continuous", "discrete")) {
            Path out = dir.resolve("uvit-" + time);
            assertEquals(0, sample("--model", "cifar10_uvit_small", "--depth", "2", "--classes", "10", "--weights", uvit.toString(),
                    "--steps", "3", "--count", "2", "--uvit-time", time, "--out", out.toString()), time);
            assertTrue(Files.exists(out.resolve("images/000001.png")), "a pixel U-ViT's samples are images");
        }
        assertRefused(dir, "predicts noise only", "--model", "cifar10_uvit_small", "--depth", "2", "--classes", "10", "--weights", uvit.toString(),
                "--sampler", "ddpm");
        Path udit = dir.resolve("udit.safetensors");
        try (DiffusionModel<?> net = config("U-DiT-S", null, 10, 4, 8).create(Device.CPU, 1)) {
            Safetensors.save(udit, net.stateDict());
        }
        assertEquals(0, sample("--model", "U-DiT-S", "--classes", "10", "--weights", udit.toString(), "--steps", "1", "--count", "1",
                "--image-size", "64", "--out", dir.resolve("udit").toString()));
        try (Safetensors.Contents c = Safetensors.read(dir.resolve("udit/latents.safetensors"))) {
            assertArrayEquals(new long[] {1, 4, 8, 8}, c.tensors().get("latents").shape());
        }
        assertEquals(live, Torch.liveTensors());
    }

    /** A small AutoencoderKL (f8, 4 latent channels) with random weights, as a released one is stored. */
    static Path tinyVae(Path dir, int latentChannels) {
        Path file = dir.resolve("vae" + latentChannels + ".safetensors");
        var config = AutoencoderKL.SD.withChannels(32).withChannelMult(List.of(1, 1, 2, 2)).withNumResBlocks(1)
                .withZChannels(latentChannels).withEmbedDim(latentChannels);
        try (AutoencoderKL vae = config.create(Device.CPU, 5)) {
            Safetensors.save(file, vae.stateDict());
        }
        return file;
    }

    @Test
    void decodesWithAnAutoencoderIntoPngsAGridAndAnNpz() throws Exception {
        long live = Torch.liveTensors();
        Path w = dir.resolve("released.pt"), vae = tinyVae(dir, 4), out = dir.resolve("decoded");
        try (Safetensors.Contents c = Safetensors.read(randomWeights(4))) {
            dev.dit4j.nn.io.TorchCheckpoint.write(w, c.tensors()); // a torch.save'd state dict, as the released DiT files
        }
        assertEquals(0, sample("--model", "DiT-S/2", "--depth", "1", "--classes", "10", "--weights", w.toString(), "--vae", vae.toString(),
                "--steps", "2", "--count", "3", "--batch", "2", "--out", out.toString(), "--npz", dir.resolve("d.npz").toString(),
                "--latents-out", dir.resolve("d.safetensors").toString()));
        for (int i = 0; i < 3; i++) {
            var png = javax.imageio.ImageIO.read(out.resolve(String.format("images/%06d.png", i)).toFile());
            assertEquals(64, png.getWidth(), "8x8 latents decode to 64 px");
        }
        checkNpz(dir.resolve("d.npz"), out, 3, 64);
        try (Safetensors.Contents c = Safetensors.read(dir.resolve("d.safetensors"))) {
            assertArrayEquals(new long[] {3, 4, 8, 8}, c.tensors().get("latents").shape(), "the latents before decoding");
        }
        assertRefused(dir, "16 latent channels", "--model", "DiT-S/2", "--depth", "1", "--classes", "10", "--weights", w.toString(),
                "--vae", tinyVae(dir, 16).toString());
        assertRefused(dir, "holds no AutoencoderKL", "--model", "DiT-S/2", "--depth", "1", "--classes", "10", "--weights", w.toString(),
                "--vae", w.toString());
        assertEquals(live, Torch.liveTensors());
    }

    /** Parses the .npz as numpy does: a zip entry arr_0.npy, the .npy 1.0 header, then the PNGs' pixels, HWC. */
    private static void checkNpz(Path npz, Path out, int n, int side) throws Exception {
        try (ZipFile zip = new ZipFile(npz.toFile())) {
            ZipEntry e = zip.getEntry("arr_0.npy");
            assertNotNull(e, "an entry arr_0.npy");
            assertEquals(ZipEntry.STORED, e.getMethod(), "stored, as numpy.savez writes");
            byte[] all;
            try (InputStream in = zip.getInputStream(e)) {
                all = in.readAllBytes(); // checks the CRC too
            }
            assertEquals((byte) 0x93, all[0]);
            assertEquals("NUMPY", new String(all, 1, 5, StandardCharsets.US_ASCII));
            int headerLength = ByteBuffer.wrap(all, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
            String header = new String(all, 10, headerLength, StandardCharsets.US_ASCII);
            assertEquals(0, (10 + headerLength) % 64, "64-byte aligned data");
            assertTrue(header.startsWith("{'descr': '|u1', 'fortran_order': False, 'shape': (" + n + ", " + side + ", " + side + ", 3), }"), header);
            assertEquals(10 + headerLength + n * side * side * 3, all.length);
            int last = n - 1;
            var img = javax.imageio.ImageIO.read(out.resolve(String.format("images/%06d.png", last)).toFile());
            int base = 10 + headerLength + last * side * side * 3;
            for (int p = 0; p < side * side; p++) {
                int rgb = img.getRGB(p % side, p / side);
                assertEquals((rgb >> 16) & 0xff, all[base + 3 * p] & 0xff);
                assertEquals((rgb >> 8) & 0xff, all[base + 3 * p + 1] & 0xff);
                assertEquals(rgb & 0xff, all[base + 3 * p + 2] & 0xff);
            }
        }
    }

    @Test
    void badInputIsRefusedByName() throws Exception {
        Path pixel = pixelWeights();
        Path uvit = dir.resolve("uvit.safetensors");
        try (DiffusionModel<?> net = config("cifar10_uvit_small", 2, null, 3, 8).create(Device.CPU, 0)) {
            Safetensors.save(uvit, net.stateDict());
        }
        assertRefused(dir, "hold a U-ViT model", "--model", "DiT-S/2", "--weights", uvit.toString());
        assertRefused(dir, "not divisible by 8", "--model", "DiT-S/2", "--depth", "1", "--weights", randomWeights(4).toString(), "--image-size", "60",
                "--classes", "10");
        assertRefused(dir, "sized for 8x8", "--model", "DiT-S/2", "--depth", "1", "--weights", pixel.toString(), "--image-size", "16",
                "--classes", "10");
        assertRefused(dir, "--depth", "--model", "DiT-S/2", "--depth", "2", "--weights", pixel.toString(), "--classes", "10");
        assertRefused(dir, "not a class", "--model", "DiT-S/2", "--depth", "1", "--weights", pixel.toString(), "--classes", "10", "--labels", "10");
        Path notWeights = dir.resolve("x.safetensors");
        try (Tensor t = Tensor.zeros(2)) {
            Safetensors.save(notWeights, Map.of("encoder.conv_in.weight", t));
        }
        assertRefused(dir, "hold no DiT, U-ViT or U-DiT", "--model", "DiT-S/2", "--weights", notWeights.toString());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written for refused input");
    }
}
