package dev.dit4j.models;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.models.train.DiffusionTrainer;
import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.StateDictMismatch;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import dev.dit4j.nn.io.CheckpointException;
import dev.dit4j.nn.io.Safetensors;
import dev.dit4j.nn.io.TorchCheckpoint;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ModelConfig.load builds every architecture directly from a weights file, as it was saved. */
class ModelLoadTest {
    private static final DiT.Config DIT = DiT.S_8.with(b -> b.depth(2).hidden(64).heads(4).inputSize(16).numClasses(10));
    private static final UViT.Config UVIT = UViT.MSCOCO_S_2.withDepth(2).withWidth(64, 4).withImgSize(8).withContext(16, 5);
    private static final UDiT.Config UDIT = UDiT.S.withBaseWidth(16, 2).withDepths(1, 0, 1, 0, 1).withNumClasses(10);

    @TempDir
    Path dir;
    private long live;

    @BeforeEach
    void count() {
        live = Torch.liveTensors();
    }

    @AfterEach
    void noLeaks() {
        assertEquals(live, Torch.liveTensors(), "native tensors leaked");
    }

    @Test
    void everyArchitectureLoadsWhatItSaved() {
        for (ModelConfig<? extends DiffusionModel<?>> config : List.of(DIT, UVIT, UDIT)) {
            Path file = dir.resolve(config.name() + ".safetensors");
            try (DiffusionModel<?> saved = config.create(Device.CPU, 3)) {
                Safetensors.save(file, saved.stateDict());
                try (DiffusionModel<?> loaded = config.load(file, Device.CPU)) {
                    assertEquals(saved.stateDict().keySet(), loaded.stateDict().keySet(), config.name());
                    saved.stateDict().forEach((k, v) -> assertTrue(v.allclose(loaded.stateDict().get(k), 0, 0), config.name() + " " + k));
                    saved.namedParameters().forEach((k, v) ->
                            assertEquals(v.requiresGrad(), loaded.namedParameters().get(k).requiresGrad(), config.name() + " " + k));
                }
            }
        }
    }

    @Test
    void aTorchSaveTrainingCheckpointGivesItsEmaWeights() {
        Path file = dir.resolve("ckpt.pt");
        try (DiT model = DIT.create(Device.CPU, 1); DiT ema = DIT.create(Device.CPU, 2); TensorScope s = TensorScope.open()) {
            TorchCheckpoint.write(file, Map.of("model", model.stateDict(), "ema", ema.stateDict(), "opt", Map.of("step", 3L)));
            Tensor x = Tensor.randn(new long[] {2, 4, 16, 16}, DType.FLOAT32, Device.CPU, null);
            Tensor t = Tensor.of(new float[] {3, 700}, 2);
            Tensor y = Tensor.of(new long[] {1, 10}, 2);
            ema.eval();
            try (DiT loaded = DIT.load(file, Device.CPU)) {
                loaded.eval();
                assertTrue(loaded.forward(x, t, y).allclose(ema.forward(x, t, y), 0, 0), "the EMA weights, not the model's");
            }
        }
    }

    @Test
    void aDiffusionTrainerCheckpointLoadsItsEmaSection() {
        Path file = dir.resolve("trainer.safetensors");
        try (DiT m = DIT.create(Device.CPU, 1); DiT e = DIT.create(Device.CPU, 2);
             DiffusionTrainer<DiT> trainer = new DiffusionTrainer<>(m, e, DiffusionTrainer.Options.dit())) {
            trainer.save(file, Map.of());
            try (DiT loaded = DIT.load(file, Device.CPU)) {
                e.stateDict().forEach((k, v) -> assertTrue(v.allclose(loaded.stateDict().get(k), 0, 0), k));
            }
        }
    }

    @Test
    void aFileForAnotherConfigIsRefusedWithEveryMismatchAndTheFileNamed() {
        Path file = dir.resolve("other.safetensors");
        try (DiT other = DIT.withDepth(3).withNumClasses(5).create(Device.CPU, 1)) {
            Map<String, Tensor> state = new LinkedHashMap<>(other.stateDict());
            state.remove("final_layer.linear.bias");
            Safetensors.save(file, state);
        }
        StateDictMismatch e = assertThrows(StateDictMismatch.class, () -> DIT.load(file, Device.CPU));
        assertEquals(List.of("final_layer.linear.bias"), e.missing());
        assertTrue(e.unexpected().stream().allMatch(k -> k.startsWith("blocks.2.")) && !e.unexpected().isEmpty(), e.unexpected().toString());
        assertEquals(List.of("y_embedder.embedding_table.weight: checkpoint [6, 64], model [11, 64]"), e.misshaped());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void aBrokenFileIsNamed() throws Exception {
        Path file = dir.resolve("broken.safetensors");
        java.nio.file.Files.write(file, new byte[] {1, 2, 3});
        CheckpointException e = assertThrows(CheckpointException.class, () -> DIT.load(file, Device.CPU));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertThrows(CheckpointException.class, () -> DIT.load(dir.resolve("w.onnx"), Device.CPU));
    }

    @Test
    void loadingConvertsToTheAskedDtype() {
        Path file = dir.resolve("bf16.safetensors");
        try (DiT model = DIT.create(Device.CPU, 4); TensorScope s = TensorScope.open()) {
            Map<String, Tensor> bf16 = new LinkedHashMap<>();
            model.stateDict().forEach((k, v) -> bf16.put(k, v.to(DType.BFLOAT16)));
            Safetensors.save(file, bf16);
            try (DiT loaded = DIT.load(file, DType.FLOAT32, Device.CPU)) {
                Tensor w = loaded.stateDict().get("blocks.0.attn.qkv.weight");
                assertEquals(DType.FLOAT32, w.dtype());
                assertTrue(w.allclose(bf16.get("blocks.0.attn.qkv.weight").to(DType.FLOAT32), 0, 0));
            }
        }
    }
}
