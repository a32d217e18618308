package dev.dit4j.examples;

import dev.dit4j.models.vae.AutoencoderTraining;
import java.util.Locale;

/**
 * Prints an autoencoder's training ({@link AutoencoderTraining}) as train-vae and clipart512-demo
 * show it: the run at the start, a line per report (the held-out PSNR where measured), the
 * outcome at the end; each start and end line begins with {@code name}.
 */
final class AutoencoderReport implements AutoencoderTraining.Listener {
    private final String name;

    AutoencoderReport(String name) {
        this.name = name;
    }

    /** A SIGTERM or SIGINT ({@link StopSignals}) stops the run at the next step, its weights written. */
    @Override
    public boolean stopRequested() {
        return StopSignals.requested();
    }

    @Override
    public void started(AutoencoderTraining.Start s) {
        System.out.printf(Locale.ROOT, "%s: %d training and %d held-out images at %d px%s, %,d parameters, f%d, %d latent channels%n", name,
                s.trainImages(), s.heldOutImages(), s.size(), s.side() < s.size() ? " (trained on " + s.side() + " px crops)" : "", s.parameters(),
                s.config().downsampling(), s.config().embedDim());
    }

    @Override
    public void progress(AutoencoderTraining.Report r) {
        String psnr = Double.isNaN(r.heldOutPsnr()) ? "" : String.format(Locale.ROOT, ", held-out PSNR %.2f dB", r.heldOutPsnr());
        System.out.printf(Locale.ROOT, "step %d/%d: loss %.2f, L1 %.4f, KL %.1f%s, %.1f s%n", r.step(), r.steps(), r.loss(), r.l1(), r.kl(), psnr, r.seconds());
    }

    void finished(AutoencoderTraining.Result r) {
        System.out.printf(Locale.ROOT, "%s: %d steps in %.0f s; held-out reconstruction PSNR %.2f dB; latent scale %.5f; wrote %s and %s%n", name,
                r.steps(), r.seconds(), r.heldOutPsnr(), r.latentScale(), r.file(), r.reconstructions());
    }
}
