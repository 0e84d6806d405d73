package dev.clip4j.cli;

import dev.clip4j.torch.Torch;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "train", description = "Train or fine-tune CLIP with the symmetric InfoNCE loss.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", description = "fashion-mnist[:train], mnist[:train], a class-folder tree, or a captions file.")
    String data;

    @Option(names = "--arch", defaultValue = "tiny-vit", description = "Architecture name or config JSON (default ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--init", description = "Start from this checkpoint (fine-tuning) instead of random weights.")
    String init;

    @Option(names = "--out", required = true, description = "Run directory (checkpoint, metrics.jsonl, report).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint.")
    boolean resume;

    @Option(names = "--epochs", defaultValue = "0", description = "Epochs (0: until --time-budget).")
    int epochs;

    @Option(names = "--time-budget", description = "Wall-clock budget, e.g. 10m, 90s, 2h.")
    String timeBudget;

    @Option(names = "--batch-size", defaultValue = "256") int batchSize;
    @Option(names = "--micro-batch", defaultValue = "0", description = "Compute the batch in micro-batches of this size (same gradients).") int microBatch;
    @Option(names = "--lr", defaultValue = "1e-3") double lr;
    @Option(names = "--warmup", defaultValue = "100", description = "Warmup steps.") int warmup;
    @Option(names = "--weight-decay", defaultValue = "0.2") double weightDecay;
    @Option(names = "--clip-norm", defaultValue = "1.0", description = "Global gradient norm limit (0: off).") double clipNorm;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--checkpoint-every", defaultValue = "200", description = "Steps between checkpoints.") int checkpointEvery;
    @Option(names = "--lock-image", description = "Freeze the image tower.") boolean lockImage;
    @Option(names = "--lock-text", description = "Freeze the text tower.") boolean lockText;
    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or bf16 (autocast).") String precision;
    @Option(names = "--no-augment", description = "No random resized crops.") boolean noAugment;
    @Option(names = "--eval-data", description = "Zero-shot evaluation set during training, e.g. fashion-mnist:test.") String evalData;
    @Option(names = "--eval-every", defaultValue = "0", description = "Steps between zero-shot evaluations (0: off).") int evalEvery;
    @Option(names = "--threads", defaultValue = "0", description = "libtorch threads (default: one per core).") int threads;
    @Option(names = "--loader-threads", defaultValue = "1") int loaderThreads;

    @Override
    public Integer call() throws Exception {
        Torch.setThreads(threads);
        if (!resume && data == null) throw new UserError("--data is required (unless --resume)");
        boolean bf16 = dev.clip4j.Precision.parse(precision) == dev.clip4j.Precision.BF16;
        TrainOptions o = new TrainOptions(data, arch, init, epochs, timeBudget == null ? 0 : TrainOptions.parseDuration(timeBudget),
                batchSize, microBatch, lr, warmup, weightDecay, clipNorm, seed, checkpointEvery, lockImage, lockText, bf16,
                !noAugment, evalData, evalEvery, loaderThreads);
        Trainer trainer = new Trainer(o, out, resume, System.err);
        Trainer.Result r = trainer.run();
        RunReport.write(out, trainer.model(), trainer.options(), r);
        System.out.println(Json.write(java.util.Map.of("steps", r.state().step(), "loss", r.lastLoss(),
                "checkpoint", r.checkpoint().toString())));
        return 0;
    }
}
