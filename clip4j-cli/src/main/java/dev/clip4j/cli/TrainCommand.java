package dev.clip4j.cli;

import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;

@Command(name = "train", description = "Train or fine-tune CLIP (symmetric InfoNCE by default; --loss for the others).")
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", description = "fashion-mnist[:train], mnist[:train], a class-folder tree, or a captions file.")
    String data;

    @Option(names = "--arch", defaultValue = "tiny-vit", description = "Architecture name or config JSON (default ${DEFAULT-VALUE}).")
    String arch;

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
    @Option(names = "--loss", defaultValue = "infonce", description = "infonce (CLIP's, default), multi-positive "
            + "(same-label or same-caption pairs are positives too), siglip (pairwise sigmoid with a learned bias) or filip "
            + "(token-wise late interaction; the model then scores token-wise in eval and classify).") String loss;
    @Option(names = "--temperature", defaultValue = "learned", description = "learned (CLIP's logit_scale, init 0.07, "
            + "default) or fixed:T (e.g. fixed:0.05; logit_scale = ln(1/T), not trained).") String temperature;
    @Option(names = "--simclr-weight", defaultValue = "0", description = "Adds SimCLR's NT-Xent over two augmented views of each "
            + "image through an MLP head, with this weight (0: off).") double simclrWeight;
    @Option(names = "--simclr-hidden", defaultValue = "4096", description = "Hidden width of the SimCLR head (4096 for ViT-B; "
            + "smaller for small towers).") int simclrHidden;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        Trainer trainer;
        if (resume) {
            trainer = Trainer.resume(out, this::amend, System.err);
        } else {
            if (data == null) throw new UserError("--data is required (unless --resume)");
            if (dev.clip4j.checkpoint.ModelLocator.newestCheckpoint(out) != null) {
                throw new UserError(out + " already holds a training run; continue it with --resume, or use another --out");
            }
            trainer = new Trainer(given(), out, false, System.err);
        }
        Trainer.Result r = trainer.run();
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

    private TrainOptions given() {
        return TrainOptions.builder().data(data).arch(arch).init(init).epochs(epochs)
                .timeBudgetSeconds(timeBudget == null ? 0 : TrainOptions.parseDuration(timeBudget)).batchSize(batchSize)
                .microBatch(microBatch).lr(lr).warmupSteps(warmup).weightDecay(weightDecay).clipNorm(clipNorm).seed(seed)
                .checkpointEvery(checkpointEvery).lockImage(lockImage).lockText(lockText).bf16(bf16()).augment(!noAugment)
                .evalData(evalData).evalEvery(evalEvery).loaderThreads(loaderThreads).loss(loss).temperature(temperature).simclrWeight(simclrWeight).simclrHidden(simclrHidden).build();
    }

    private boolean bf16() {
        return dev.clip4j.Precision.parse(precision) == dev.clip4j.Precision.BF16;
    }

    /**
     * On resume: options that define the run (data, model, optimizer, batch) must match the saved ones if given;
     * the schedule's extent, intervals and loader threads may change.
     */
    private TrainOptions amend(TrainOptions saved) {
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        TrainOptions asked = given();
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
        fixed.put("--loss", TrainOptions::loss);
        fixed.put("--temperature", TrainOptions::temperature);
        fixed.put("--simclr-weight", TrainOptions::simclrWeight);
        fixed.put("--simclr-hidden", TrainOptions::simclrHidden);
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
}
