package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.family.CheckpointInfo;
import dev.dit4j.models.family.ModelFamily;
import dev.dit4j.models.flow.Transport;
import dev.dit4j.models.flow.TransportObjective;
import dev.dit4j.models.pipeline.DiffusionPipeline;
import dev.dit4j.models.pipeline.SampleRequest;
import dev.dit4j.models.pipeline.Samples;
import dev.dit4j.models.sampling.SamplerKind;
import dev.dit4j.models.sampling.SamplerSettings;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.WeightSource;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SiT's transport against the authors' code (willisma/SiT, src/test/python/make_sit_fixtures.py):
 * a small SiT written by SiT's models.py (checkpoints/sit_small.pt, DiT's keys, learn_sigma) loads
 * as "SiT-S/2"; its training loss for every path x prediction x weight on the same batch, noise
 * and time; and sample.py's ODE and SDE chains from the same seed through the pipeline.
 */
class SiTParityTest {
    private static Path checkpoint() throws Exception {
        return Path.of(SiTParityTest.class.getResource("/checkpoints/sit_small.pt").toURI());
    }

    @Test
    void trainingLossesMatchSiT() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("sit_transport.safetensors"); WeightSource w = Weights.open(checkpoint())) {
            CheckpointInfo info = ModelFamily.SIT.probe(w, ModelFamily.SIT.presets().get("SiT-S/2"));
            assertEquals("SiT-S/2", info.config().name());
            assertTrue(info.config().learnSigma(), "SiT's models.py learns sigma by default");
            try (DiT model = (DiT) info.config().load(w, DType.FLOAT32, Device.CPU); TensorScope s = TensorScope.open()) {
                model.eval();
                Map<String, Tensor> t = ref.tensors();
                Tensor y = t.get("y");
                double worst = 0;
                for (String name : ref.metadata().get("loss_cases").split(",")) {
                    String[] p = name.split("_");
                    Transport tr = Transport.create(Transport.Path.parse(p[0]), Transport.Prediction.parse(p[1]), Transport.LossWeight.parse(p[2]),
                            1e-5, 1e-3, Transport.TimeSampling.UNIFORM);
                    try (TensorScope c = TensorScope.open()) {
                        Tensor losses = new TransportObjective(tr).losses((x, tt) -> model.forward(x, tt, y), t.get("x1"), t.get("x0"), t.get("t_" + name));
                        double[] got = losses.toDoubleArray(), want = t.get("loss_" + name).toDoubleArray();
                        for (int i = 0; i < want.length; i++) {
                            double rel = Math.abs(got[i] - want[i]) / Math.abs(want[i]);
                            worst = Math.max(worst, rel);
                            assertTrue(rel < 1e-5, name + " sample " + i + ": " + got[i] + " vs SiT's " + want[i]);
                        }
                    }
                }
                System.out.printf("SiT training losses: %d cases, worst relative error %.2e%n", ref.metadata().get("loss_cases").split(",").length, worst);
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void chainsMatchSiTsSamplePy() throws Exception {
        long live = Torch.liveTensors();
        try (Safetensors.Contents ref = Fixtures.load("sit_transport.safetensors")) {
            long[] labels = Arrays.stream(ref.metadata().get("labels").split(",")).mapToLong(Long::parseLong).toArray();
            for (String line : ref.metadata().get("chains").split("\n")) {
                Map<String, String> chain = new java.util.HashMap<>();
                for (String kv : line.split(";")) chain.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
                String name = chain.get("name");
                DiffusionPipeline.Builder b = DiffusionPipeline.from(checkpoint()).preset("SiT-S/2")
                        .metadata(Transport.PATH_KEY, chain.get("path")).metadata(Transport.PREDICTION_KEY, chain.get("prediction"));
                try (DiffusionPipeline p = b.load()) {
                    assertSame(ModelFamily.SIT, p.checkpoint().family());
                    boolean sde = chain.get("mode").equals("sde");
                    SamplerSettings settings = SamplerSettings.method(chain.get("method"));
                    if (sde) {
                        settings = settings.withDiffusion(chain.get("diffusion_form"), chain.containsKey("diffusion_norm") ? Double.parseDouble(chain.get("diffusion_norm")) : null)
                                .withLastStep(chain.get("last_step"), Double.parseDouble(chain.get("last_step_size")));
                    } else if (chain.containsKey("atol")) {
                        settings = settings.withTolerances(Double.parseDouble(chain.get("atol")), Double.parseDouble(chain.get("rtol")));
                    }
                    SampleRequest r = SampleRequest.labels(labels).withBatch(labels.length).withSeed(Long.parseLong(chain.get("seed")))
                            .withSampler(sde ? SamplerKind.SDE : SamplerKind.ODE, Integer.parseInt(chain.get("steps")))
                            .withSettings(settings).withGuidance(Double.parseDouble(chain.get("cfg")));
                    try (Samples out = p.sample(r); TensorScope s = TensorScope.open()) {
                        double err = Fixtures.relativeL2(out.latents(), ref.tensors().get("chain_" + name));
                        double tolerance = chain.get("method").equals("dopri5") ? 1e-3 : 1e-4;
                        System.out.printf("SiT chain %s: relative L2 %.2e%n", name, err);
                        assertTrue(err < tolerance, name + ": relative L2 " + err);
                    }
                }
            }
        }
        assertEquals(live, Torch.liveTensors());
    }

    @Test
    void aTransportRecipeIsRecordedAndRebuilt() {
        long live = Torch.liveTensors();
        DiT.Config c = DiT.S_2.withDepth(1).withNumClasses(10);
        Transport t = Transport.create(Transport.Path.GVP, Transport.Prediction.NOISE, Transport.LossWeight.LIKELIHOOD, null, null,
                Transport.TimeSampling.LOGIT_NORMAL);
        var recipe = ModelFamily.DIT.recipe(c).withTransport(t, c);
        assertEquals(SamplerKind.ODE, recipe.sampler());
        CheckpointInfo file = new CheckpointInfo(ModelFamily.DIT, c, null, true, recipe.metadata());
        assertEquals(t, file.recipe().transport(), "the checkpoint's metadata rebuilds the transport");
        assertEquals(SamplerKind.ODE, file.recipe().sampler());
        assertThrows(IllegalArgumentException.class, () -> file.recipe().newSampler(SamplerKind.DDPM, 10), "DDPM needs the diffusion objective");
        assertThrows(IllegalArgumentException.class, () -> ModelFamily.DIT.recipe(c).newSampler(SamplerKind.DDPM, 10, SamplerSettings.method("heun")),
                "DDPM takes no sampling method");
        assertEquals(1e-5, t.trainEps(), "score and noise on GVP keep the script's epsilons");
        assertEquals(1e-3, t.sampleEps());
        assertEquals(0, Transport.sit().trainEps(), "velocity on Linear is stable everywhere");
        assertSame(ModelFamily.SIT, ModelFamily.ofPreset("SiT-XL/2"));
        assertSame(ModelFamily.DIT, ModelFamily.ofPreset("XL_2"), "short names stay DiT's");
        assertSame(ModelFamily.SIT, ModelFamily.SIT.presets().get("SiT-XL/2").family());
        try (TensorScope s = TensorScope.open(); TransportObjective o = new TransportObjective(t); dev.dit4j.nn.Generator g = dev.dit4j.nn.Generator.cpu(0);
             DiT model = c.withInputSize(8).create(Device.CPU, 0)) {
            Tensor x = Tensor.randn(new long[] {3, 4, 8, 8}, DType.FLOAT32, Device.CPU, g);
            Tensor y = Tensor.of(new long[] {1, 2, 3}, 3);
            Tensor losses = o.losses((xt, tt) -> {
                double[] ts = tt.toDoubleArray();
                for (double v : ts) assertTrue(v >= 1e-5 && v <= 1 - 1e-5, "t on the training interval: " + v);
                return model.forward(xt, tt, y);
            }, x, g);
            assertEquals(3, losses.size(0));
            assertTrue(Double.isFinite(losses.sum().item()));
        }
        assertEquals(live, Torch.liveTensors());
    }
}
