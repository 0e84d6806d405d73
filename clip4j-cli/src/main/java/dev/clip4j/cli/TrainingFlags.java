package dev.clip4j.cli;

import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;


/**
 * The options every training command shares ({@code train}, {@code pretrain}): data, run directory, schedule,
 * optimizer, precision, resume; and the run's lifecycle around a {@link Trainer} (start or resume, the amend rules of a
 * resumed run, the result line), so both commands behave the same.
 */
final class TrainingFlags {
    @Option(names = "--data", description = "fashion-mnist[:train], mnist[:train], emoji[:train], a class-folder tree, or a captions file.")
    String data;

    @Option(names = "--init", description = "Start from this checkpoint (fine-tuning) instead of random weights.")
    String init;

    @Option(names = "--out", required = true, description = "Run directory (checkpoint, metrics.jsonl, report).")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint. --epochs, --time-budget "
            + "(totals for the whole run), --checkpoint-every, --eval-* and --loader-threads may change; the others must match.")
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
    @Option(names = "--precision", defaultValue = "fp32", description = "fp32, or bf16 (autocast: weights stay float32).") String precision;
    @Option(names = "--no-augment", description = "No random resized crops.") boolean noAugment;
    @Option(names = "--eval-data", description = "Zero-shot evaluation set during training, e.g. fashion-mnist:test.") String evalData;
    @Option(names = "--eval-every", defaultValue = "0", description = "Steps between zero-shot evaluations (0: off).") int evalEvery;
    @Mixin CommonOptions.Threads threads;
    @Option(names = "--loader-threads", defaultValue = "1") int loaderThreads;

    /** --precision for training: fp32, or bf16 autocast (int8 is inference only). */
    static boolean trainingBf16(String precision) {
        dev.clip4j.Precision p = CommonOptions.explicitPrecision(precision);
        if (p == dev.clip4j.Precision.INT8) throw new UserError("--precision int8 is for inference (embed, classify, index build); train in fp32 or bf16");
        return p == dev.clip4j.Precision.BF16;
    }

    /** The shared part of the options as given. */
    TrainOptions.Builder given() {
        return TrainOptions.builder().data(data).init(init).epochs(epochs)
                .timeBudgetSeconds(timeBudget == null ? 0 : TrainOptions.parseDuration(timeBudget)).batchSize(batchSize)
                .microBatch(microBatch).lr(lr).warmupSteps(warmup).weightDecay(weightDecay).clipNorm(clipNorm).seed(seed)
                .checkpointEvery(checkpointEvery).lockImage(lockImage).lockText(lockText)
                .bf16(trainingBf16(precision)).augment(!noAugment)
                .evalData(evalData).evalEvery(evalEvery).loaderThreads(loaderThreads);
    }

    /** Starts the run ({@code options} as given) or resumes the one in --out, amended by {@link #amend}. */
    Trainer open(CommandLine.Model.CommandSpec spec, TrainOptions asked, Map<String, Function<TrainOptions, Object>> moreFixed)
            throws java.io.IOException {
        threads.apply();
        // a rank of a distributed run (./clip4j launch, torchrun or a cluster's launcher set these variables)
        dev.clip4j.dist.DistEnv env = dev.clip4j.dist.DistEnv.fromSystem();
        dev.clip4j.dist.DataParallel dp = null;
        if (!resume && data == null) throw new UserError("--data is required (unless --resume)");
        if (!resume && dev.clip4j.checkpoint.ModelLocator.newestCheckpoint(out) != null) {
            throw new UserError(out + " already holds a training run; continue it with --resume, or use another --out");
        }
        if (env != null && env.worldSize() > 1) dp = dev.clip4j.dist.DataParallel.join(env);
        if (dp != null) {
            return Trainer.distributed(asked, out, resume, saved -> amend(spec, asked, saved, moreFixed), System.err, dp);
        }
        if (resume) return Trainer.resume(out, saved -> amend(spec, asked, saved, moreFixed), System.err);
        return new Trainer(asked, out, false, System.err);
    }

    /**
     * On resume: options that define the run (data, model, optimizer, batch, and the command's own in
     * {@code moreFixed}) must match the saved ones if given; the schedule's extent, intervals and loader threads may change.
     */
    private TrainOptions amend(CommandLine.Model.CommandSpec spec, TrainOptions asked, TrainOptions saved,
                               Map<String, Function<TrainOptions, Object>> moreFixed) {
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        Map<String, Function<TrainOptions, Object>> fixed = new LinkedHashMap<>();
        fixed.put("--data", TrainOptions::data);
        fixed.put("--arch", TrainOptions::arch);
        fixed.put("--init", TrainOptions::init);
        fixed.put("--batch-size", TrainOptions::batchSize);
        fixed.put("--lr", TrainOptions::lr);
        fixed.put("--warmup", TrainOptions::warmupSteps);
        fixed.put("--weight-decay", TrainOptions::weightDecay);
        fixed.put("--clip-norm", TrainOptions::clipNorm);
        fixed.put("--seed", TrainOptions::seed);
        fixed.put("--lock-image", TrainOptions::lockImage);
        fixed.put("--lock-text", TrainOptions::lockText);
        fixed.put("--precision", TrainOptions::bf16);
        fixed.put("--no-augment", o -> !o.augment());
        fixed.putAll(moreFixed);
        for (Map.Entry<String, Function<TrainOptions, Object>> f : fixed.entrySet()) {
            if (!given.hasMatchedOption(f.getKey())) continue;
            Object want = f.getValue().apply(asked), have = f.getValue().apply(saved);
            if (!Objects.equals(want, have)) {
                throw new UserError(f.getKey() + " " + want + " differs from the run's " + have + ": a resumed run keeps its data,"
                        + " model, batch and optimizer settings (start a new --out to change them)");
            }
        }
        TrainOptions.Builder b = saved.toBuilder();
        if (given.hasMatchedOption("--epochs")) b.epochs(epochs);
        if (given.hasMatchedOption("--time-budget")) b.timeBudgetSeconds(asked.timeBudgetSeconds());
        if (given.hasMatchedOption("--checkpoint-every")) b.checkpointEvery(checkpointEvery);
        if (given.hasMatchedOption("--eval-data")) b.evalData(evalData);
        if (given.hasMatchedOption("--eval-every")) b.evalEvery(evalEvery);
        if (given.hasMatchedOption("--loader-threads")) b.loaderThreads(loaderThreads);
        if (given.hasMatchedOption("--micro-batch")) b.microBatch(microBatch);
        return b.build();
    }

    /** Runs to the end (or a signal), writes the report, prints the result line; the exit code. */
    int runAndReport(Trainer trainer) throws java.io.IOException {
        Trainer.Result r = trainer.run();
        if (!trainer.isLeader()) {
            // the other ranks of a distributed run: rank 0 reports (and wrote the run)
            return r.stoppedBy() == null || r.alreadyFinished() ? 0 : Signals.exitCode(r.stoppedBy());
        }
        if (r.alreadyFinished()) {
            System.out.println(Json.write(Map.of("steps", r.state().step(), "finished", true,
                    "message", "the run in " + out + " already finished; give a larger --epochs or --time-budget to extend it")));
            return 0;
        }
        if (r.stepsThisSession() > 0) RunReport.write(out, trainer.model(), trainer.options(), r);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("steps", r.state().step());
        result.put("loss", r.lastLoss());
        result.put("checkpoint", r.checkpoint().toString());
        if (r.stoppedBy() != null) result.put("stopped_by", r.stoppedBy());
        System.out.println(Json.write(result));
        return r.stoppedBy() == null ? 0 : Signals.exitCode(r.stoppedBy());
    }

}
