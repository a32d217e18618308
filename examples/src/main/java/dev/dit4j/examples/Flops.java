package dev.dit4j.examples;

import dev.dit4j.models.flops.FlopSubject;
import dev.dit4j.models.flops.FlopsTable;
import dev.dit4j.models.flops.ModelFlops;
import dev.dit4j.nn.Device;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the parameter / GFLOPs table of the model presets, counted by running each forward once. */
@Command(name = "flops", mixinStandardHelpOptions = true,
        description = "Count parameters and GFLOPs (multiply-accumulates of one batch-1 forward) of the model presets; "
                + "print a markdown table.")
public final class Flops implements Callable<Integer> {
    @Option(names = "--models", description = "only rows whose name contains this, e.g. DiT-S or /2 (default: all)")
    String models;

    @Option(names = "--device", description = "cpu or cuda:N (default ${DEFAULT-VALUE})")
    String device = "cpu";

    @Option(names = "--out", description = "also write the markdown table to this file")
    Path out;

    @Override
    public Integer call() throws IOException {
        Device dev = Device.parse(device);
        List<FlopSubject> subjects = FlopsTable.subjects(models);
        List<ModelFlops.Result> results = FlopsTable.measure(subjects, dev, r -> System.err.printf(Locale.ROOT,
                "flops: %s %.2fM params, %.2f GMACs%n", r.name(), r.mparams(), r.gmacs()));
        String table = FlopsTable.markdown(results);
        System.out.print(table);
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            Files.writeString(out, table, StandardCharsets.UTF_8);
            System.err.println("flops: wrote " + out);
        }
        return results.stream().allMatch(r -> r.reference() == null || r.matchesReference()) ? 0 : 1;
    }
}
