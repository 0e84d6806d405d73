package dev.clip4j.train;

import dev.clip4j.torch.Ops;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.InputException;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.DataFiles;
import dev.clip4j.io.RunLock;
import dev.clip4j.io.StopSignal;
import dev.clip4j.data.BatchLoader;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.DatasetException;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.data.Prompts;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.eval.ZeroShotResult;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Autograd;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * CLIP's contrastive training: symmetric InfoNCE, AdamW (betas 0.9/0.98, eps 1e-6, decay on ≥ 2-D weights), linear
 * warmup then cosine, global-norm clipping, {@code logit_scale} clamped to [0, ln 100] after each step, atomic
 * checkpoints every N steps and at the end, and bit-for-bit resume (data order, captions and crops come from the
 * seed, epoch and sample index; the model, optimizer moments and position come from the checkpoint).
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** With only a time budget, the step count is estimated from the speed of steps 5..25 (the first are slower). */
    private static final int ESTIMATE_FROM = 5, ESTIMATE_AFTER = 25, ESTIMATE_EVERY = 50;

    private TrainOptions o;
    private final Path run;
    private final PrintStream log;
    private final ClipModel model;
    private final ImageTextDataset data;
    private final Map<String, Tensor> trainable;
    private final AdamW optimizer;
    private final RunLock lock;
    private RunState state;
    private static final String METRICS = "metrics.jsonl";

    /**
     * What {@link #run()} leaves: the final state, the last loss, the checkpoint; {@code stoppedBy} names the signal
     * that stopped the run early (null if it ran to its end), and {@code alreadyFinished} says a resumed run had
     * nothing left to do (nothing was written).
     */
    public record Result(RunState state, double lastLoss, Path checkpoint, long stepsThisSession, String stoppedBy,
                         boolean alreadyFinished) {}

    /** Starts a new run in {@code run} (which must not hold a checkpoint), or resumes the one there unchanged. */
    public Trainer(TrainOptions options, Path run, boolean resume, PrintStream log) throws IOException {
        this(resume ? null : options, run, resume, null, log);
    }

    /** Resumes the run in {@code run}; {@code amend} may change what can change (time budget, epochs, intervals). */
    public static Trainer resume(Path run, UnaryOperator<TrainOptions> amend, PrintStream log) throws IOException {
        return new Trainer(null, run, true, amend, log);
    }

    private Trainer(TrainOptions options, Path run, boolean resume, UnaryOperator<TrainOptions> amend, PrintStream log)
            throws IOException {
        this.run = run;
        this.log = log;
        boolean created = !Files.exists(run);
        if (resume && created) throw new InputException(run + ": no such run directory to resume");
        if (!resume) options.validate();
        this.lock = RunLock.acquire(run);
        try {
            int removed = RunCheckpoint.tidy(run);
            if (removed > 0) log.println("clip4j: removed " + removed + " leftover checkpoint director" + (removed == 1 ? "y" : "ies")
                    + " of an interrupted save in " + run);
            Path existing = RunCheckpoint.find(run);
            if (resume) {
                if (existing == null) throw new InputException(run + ": no checkpoint to resume from");
                RunCheckpoint.Saved saved = RunCheckpoint.read(existing);
                TrainOptions o = saved.options();
                this.o = (amend == null ? o : amend.apply(o)).validate();
                this.state = saved.state();
                this.model = ClipCheckpoint.loadModel(existing);
            } else {
                if (existing != null) {
                    throw new InputException(run + " already holds a training run; resume it, or use another directory");
                }
                this.o = options;
                // A run that crashed before its first checkpoint left metrics of steps that will run again.
                Files.deleteIfExists(run.resolve(METRICS));
                Torch.manualSeed(o.seed());
                this.model = o.init() != null ? ClipCheckpoint.loadModel(Path.of(o.init())) : ClipModel.create(config(o.arch()));
                this.state = new RunState(0, 0, 0, 0, 0, 0);
            }
            this.data = Datasets.open(o.data());
            if (data.size() < o.batchSize()) {
                throw new DatasetException(o.data() + ": " + data.size() + " examples, fewer than the batch size " + o.batchSize());
            }
            int perEpoch = data.size() / o.batchSize();
            if (resume && o.epochs() > 0 && state.totalSteps() != (long) o.epochs() * perEpoch) {
                // more (or fewer) epochs than the run was started with: the schedule spans the new total
                state = new RunState(state.step(), (long) o.epochs() * perEpoch, state.epoch(), state.batchInEpoch(),
                        state.elapsedSeconds(), state.samplesSeen());
            }
            model.train(true);
            this.trainable = ParameterGroups.trainable(model, o.lockImage(), o.lockText());
            this.optimizer = ParameterGroups.optimizer(model, trainable, o.lr(), o.weightDecay());
            if (resume) {
                RunCheckpoint.restoreOptimizer(existing, optimizer);
                trimMetrics(run.resolve(METRICS), state.step());
            }
        } catch (IOException | RuntimeException | Error e) {
            lock.close();
            if (created) removeIfOnlyLock(run);
            throw e;
        }
    }

    /** A new run that failed to start leaves no empty directory behind. */
    private static void removeIfOnlyLock(Path run) {
        try (var list = Files.list(run)) {
            if (list.allMatch(p -> p.getFileName().toString().equals(RunLock.FILE))) DataFiles.deleteTree(run);
        } catch (IOException e) {
            // leave it
        }
    }

    /** Whether the run has reached its end (its epochs, or its time budget). */
    public boolean finished() {
        boolean byEpochs = o.epochs() > 0 && state.totalSteps() > 0 && state.step() >= state.totalSteps();
        boolean byBudget = o.timeBudgetSeconds() > 0 && state.elapsedSeconds() >= o.timeBudgetSeconds();
        return byEpochs || byBudget;
    }

    /** Drops metric lines of steps after the checkpoint (they are re-run after a crash and would appear twice). */
    private static void trimMetrics(Path file, long lastStep) throws IOException {
        if (!Files.exists(file)) return;
        List<String> keep = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            try {
                if (!line.isBlank() && JSON.readTree(line).path("step").asLong(Long.MAX_VALUE) <= lastStep) keep.add(line);
            } catch (IOException e) {
                // a line cut short by the crash
            }
        }
        dev.clip4j.io.AtomicFiles.writeString(file, keep.isEmpty() ? "" : String.join("\n", keep) + "\n");
    }

    static ClipConfig config(String arch) throws IOException {
        Path p = Path.of(arch);
        return arch.endsWith(".json") && Files.isRegularFile(p) ? ClipConfig.read(p) : ClipConfig.builtIn(arch);
    }

    public ClipModel model() {
        return model;
    }

    public TrainOptions options() {
        return o;
    }

    public Result run() throws IOException {
        return runUntil(Long.MAX_VALUE);
    }

    /** Trains until step {@code stopAt} (or the run's end), then checkpoints; a later {@code --resume} continues. */
    public Result runUntil(long stopAt) throws IOException {
        try {
            if (finished()) {
                return new Result(state, Double.NaN, RunCheckpoint.find(run), 0, null, true);
            }
            return train(stopAt);
        } finally {
            lock.close();
        }
    }

    private Result train(long stopAt) throws IOException {
        int perEpoch = data.size() / o.batchSize();
        long total = state.totalSteps();
        if (total == 0 && o.epochs() > 0) total = (long) o.epochs() * perEpoch;
        int res = model.imageResolution();
        double lastLoss = Double.NaN;
        long startNanos = System.nanoTime();
        double elapsedBefore = state.elapsedSeconds();
        BatchLoader loader = null;
        int loaderEpoch = -1;
        String stoppedBy = null;
        final long sessionStart = state.step();
        long savedAt = state.step();
        try (BufferedWriter metrics = Files.newBufferedWriter(run.resolve(METRICS), StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            long step = state.step();
            final long firstStep = step;
            final boolean budgetOnly = o.epochs() <= 0 && o.timeBudgetSeconds() > 0;
            long samples = state.samplesSeen();
            while ((total == 0 || step < total || budgetOnly) && step < stopAt) {
                if (StopSignal.requested()) {
                    // between steps: no native call is running; the checkpoint below makes the run resumable
                    stoppedBy = StopSignal.reason();
                    break;
                }
                double elapsed = elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
                if (o.timeBudgetSeconds() > 0 && elapsed >= o.timeBudgetSeconds()) break;
                int epoch = (int) (step / perEpoch), inEpoch = (int) (step % perEpoch);
                if (epoch != loaderEpoch) {
                    if (loader != null) loader.close();
                    loader = new BatchLoader(data, BatchLoader.epochOrder(data.size(), o.seed(), epoch), inEpoch, o.batchSize(),
                            res, model.contextLength(), o.augment(), o.seed() + epoch, o.loaderThreads(), 4);
                    loaderEpoch = epoch;
                }
                BatchLoader.Batch b = loader.next();
                long schedTotal = total == 0 ? Math.max(step + 1, ESTIMATE_AFTER * 100L) : total;
                double lr = new LearningRateSchedule(o.lr(), o.warmupSteps(), schedTotal).at(step);
                double gradNorm;
                try (Scope scope = Scope.open()) {
                    Tensor images = Tensors.fromFloats(b.images(), b.size(), 3, res, res);
                    Tensor tokens = Tensors.fromLongs(b.tokens(), b.size(), b.textLength());
                    optimizer.zeroGrad();
                    optimizer.setLearningRate(lr);
                    lastLoss = ContrastiveStep.run(model, images, tokens, o.microBatch(), o.bf16());
                    gradNorm = o.clipNorm() > 0 ? Autograd.clipGradNorm(trainable.values(), o.clipNorm()) : Double.NaN;
                    optimizer.step();
                    clampLogitScale(model);
                }
                step++;
                samples += b.size();
                elapsed = elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
                if (budgetOnly && (step - firstStep) % ESTIMATE_EVERY == ESTIMATE_FROM) estimateStart = System.nanoTime();
                if (budgetOnly && step - firstStep >= ESTIMATE_AFTER
                        && (step - firstStep - ESTIMATE_FROM) % ESTIMATE_EVERY == ESTIMATE_AFTER - ESTIMATE_FROM) {
                    // With only a time budget, the cosine spans the steps the budget allows at the recent speed,
                    // re-estimated every ESTIMATE_EVERY steps (the machine's speed drifts, and the first steps are slow).
                    double perStep = (System.nanoTime() - estimateStart) / 1e9 / (ESTIMATE_AFTER - ESTIMATE_FROM);
                    total = Math.max(step + 1, step + (long) ((o.timeBudgetSeconds() - elapsed) / perStep));
                }
                double scale = Math.exp(Tensors.item(model.logitScaleParameter()));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("step", step);
                m.put("epoch", step / (double) perEpoch);
                m.put("loss", lastLoss);
                m.put("lr", lr);
                m.put("logit_scale", scale);
                m.put("grad_norm", gradNorm);
                m.put("samples_per_sec", samples / Math.max(1e-9, elapsed));
                m.put("elapsed_s", elapsed);
                m.put("rss_mb", dev.clip4j.io.ProcessMemory.rssMb());
                metrics.write(JSON.writeValueAsString(m));
                metrics.newLine();
                state = new RunState(step, total, (int) (step / perEpoch), (int) (step % perEpoch), elapsed, samples);
                progress(step, total, lastLoss, scale, samples / Math.max(1e-9, elapsed), elapsed);
                if (o.evalData() != null && o.evalEvery() > 0 && step % o.evalEvery() == 0) {
                    metrics.write(JSON.writeValueAsString(evalLine(step)));
                    metrics.newLine();
                }
                if (o.checkpointEvery() > 0 && step % o.checkpointEvery() == 0) {
                    metrics.flush();
                    RunCheckpoint.save(run, model, optimizer, o, state);
                    savedAt = step;
                }
            }
            state = new RunState(state.step(), total, state.epoch(), state.batchInEpoch(), state.elapsedSeconds(), state.samplesSeen());
            metrics.flush();
            if (state.step() > savedAt) {
                RunCheckpoint.save(run, model, optimizer, o, state);
            }
            log.println();
            if (stoppedBy != null) {
                log.println("clip4j: stopped by " + stoppedBy + " after step " + state.step()
                        + (state.step() > 0 ? "; checkpoint written, continue with resume" : "; nothing to save"));
            }
        } finally {
            if (loader != null) loader.close();
        }
        return new Result(state, lastLoss, run.resolve(RunCheckpoint.DIR), state.step() - sessionStart, stoppedBy, false);
    }

    private Map<String, Object> evalLine(long step) {
        model.train(false);
        try {
            ZeroShotResult r = ZeroShot.evaluate(model, Datasets.open(o.evalData()), Prompts.TEMPLATES, 256);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", step);
            m.put("zero_shot_top1", r.top1());
            m.put("zero_shot_data", r.dataset());
            return m;
        } finally {
            model.train(true);
        }
    }

    /** {@code logit_scale.clamp_(0, ln 100)}, as CLIP training does after each step. */
    public static void clampLogitScale(ClipModel model) {
        Tensor s = model.logitScaleParameter();
        Grad.noGrad(() -> Ops.clamp_(s, 0.0, ClipModel.MAX_LOGIT_SCALE));
    }

    private long lastPrint;
    private long estimateStart;

    private void progress(long step, long total, double loss, double scale, double sps, double elapsed) {
        long now = System.nanoTime();
        if (now - lastPrint < 500_000_000L && step != total) return;
        lastPrint = now;
        String eta = total > 0 && step > 0 ? formatDuration(elapsed / step * (total - step)) : "?";
        if (o.timeBudgetSeconds() > 0) eta = formatDuration(Math.min(o.timeBudgetSeconds() - elapsed, total > 0 ? elapsed / step * (total - step) : 1e9));
        int width = 24, filled = total > 0 ? (int) (width * step / total) : 0;
        log.printf("\r[%s%s] step %d/%s  loss %.4f  scale %.2f  %.0f samples/s  ETA %s   ", "#".repeat(filled),
                "-".repeat(Math.max(0, width - filled)), step, total > 0 ? Long.toString(total) : "?", loss, scale, sps, eta);
        log.flush();
    }

    static String formatDuration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
