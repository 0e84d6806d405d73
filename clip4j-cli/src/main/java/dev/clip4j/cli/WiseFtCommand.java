package dev.clip4j.cli;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipModel;
import dev.clip4j.train.WeightInterpolation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "wise-ft", description = "Weight-space ensembling: (1 - alpha) * zero-shot + alpha * fine-tuned.")
final class WiseFtCommand implements Callable<Integer> {
    @Option(names = "--zero-shot", required = true, description = "The model before fine-tuning.") Path zeroShot;
    @Option(names = "--fine-tuned", required = true, description = "The fine-tuned model (or its run directory).") Path fineTuned;
    @Option(names = "--alpha", defaultValue = "0.5", description = "Weight of the fine-tuned model (default ${DEFAULT-VALUE}).") double alpha;
    @Option(names = "--out", required = true, description = "Output clip4j model directory.") Path out;

    @Override
    public Integer call() throws Exception {
        Options.finite("--alpha", alpha);
        if (java.nio.file.Files.exists(out)) {
            throw new UserError(out + " already exists; wise-ft writes a new model directory (remove it or choose another --out)");
        }
        ClipModel a = ClipCheckpoint.loadModel(zeroShot), b = ClipCheckpoint.loadModel(fineTuned);
        ClipModel mixed = WeightInterpolation.interpolate(a, b, alpha, zeroShot + " + " + fineTuned);
        ClipCheckpoint.save(mixed, out);
        System.out.println("wrote " + out + " (alpha " + alpha + ")");
        return 0;
    }
}
