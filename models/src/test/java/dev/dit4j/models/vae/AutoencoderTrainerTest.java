package dev.dit4j.models.vae;

import static org.junit.jupiter.api.Assertions.*;

import dev.dit4j.nn.DType;
import dev.dit4j.nn.Device;
import dev.dit4j.nn.Generator;
import dev.dit4j.nn.Tensor;
import dev.dit4j.nn.TensorScope;
import dev.dit4j.nn.Torch;
import java.util.List;
import org.junit.jupiter.api.Test;

class AutoencoderTrainerTest {
    @Test
    void fittingAFewSmoothImagesRaisesTheirReconstructionPsnr() {
        long live = Torch.liveTensors();
        AutoencoderKL.Config tiny = AutoencoderKL.SD.withChannels(32).withChannelMult(List.of(1, 2)).withNumResBlocks(1);
        try (TensorScope s = TensorScope.open(); AutoencoderKL vae = tiny.create(Device.CPU, 0);
             AutoencoderTrainer trainer = new AutoencoderTrainer(vae, new AutoencoderTrainer.Options(2e-3, 1e-6, 0));
             Generator g = Generator.cpu(1)) {
            // smooth images: low-resolution noise upsampled, in [-1, 1]
            Tensor coarse = Tensor.rand(new long[] {4, 3, 4, 4}, DType.FLOAT32, Device.CPU, g).mul(2).sub(1);
            Tensor images = dev.dit4j.nn.Functional.interpolate(coarse, 16, 16, dev.dit4j.nn.Functional.Interpolation.BILINEAR, false);
            double before = AutoencoderTrainer.psnr(vae, images, Chunking.NONE);
            AutoencoderTrainer.Losses first = trainer.step(images, g), last = first;
            for (int i = 0; i < 40; i++) last = trainer.step(images, g);
            double after = AutoencoderTrainer.psnr(vae, images, Chunking.NONE);
            System.out.printf("trainer: L1 %.4f -> %.4f, PSNR %.2f -> %.2f dB%n", first.l1(), last.l1(), before, after);
            assertTrue(last.l1() < 0.5 * first.l1(), "L1 " + first.l1() + " -> " + last.l1());
            assertTrue(after > before + 3, "PSNR " + before + " -> " + after);
            assertTrue(first.kl() > 0 && Double.isFinite(last.total()));
        }
        assertEquals(live, Torch.liveTensors());
    }
}
