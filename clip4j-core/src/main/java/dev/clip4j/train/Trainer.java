package dev.clip4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.InputException;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.DataFiles;
import dev.clip4j.io.RunLock;
import dev.clip4j.io.StopSignal;
import dev.clip4j.data.BatchLoader;
import dev.clip4j.data.Collator;
import dev.clip4j.data.TextTransform;
import dev.clip4j.image.ImageTransform;
import dev.clip4j.image.RandomResizedCrop;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.DatasetException;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The training loop around an {@link Objective} (CLIP's {@link ContrastiveObjective} by default): the run's lifecycle
 * (lock, tidy, resume), seeded data order, AdamW (betas 0.9/0.98, eps 1e-6, decay where the objective says) with
 * linear warmup then cosine ({@link TimeBudgetHorizon} for budget-only runs), {@link TrainStep} per batch,
 * {@link TrainingListener}s (progress bar, metrics log, periodic zero-shot, any added with {@link #listen}), atomic
 * checkpoints of the model, the objective's extra modules and the optimizer every N steps and at the end, and
 * bit-for-bit resume (data order, captions and crops come from the seed, epoch and sample index; everything else
 * from the checkpoint).
 */
public final class Trainer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainOptions o;
    private final Path run;
    private final PrintStream log;
    private final ClipModel model;
    private final ImageTextDataset data;
    /** Frame-feature data (a video setting, {@link dev.clip4j.data.FrameFeatureDataset}) instead of images; else null. */
    private final dev.clip4j.data.FrameFeatureDataset frames;
    private final Objective objective;
    private final Map<String, Tensor> trainable;
    private final AdamW optimizer;
    private final List<TrainingListener> extraListeners = new java.util.ArrayList<>();
    /** The data-parallel group of a distributed run (null on one process); only its rank 0 writes. */
    private final dev.clip4j.dist.DataParallel dp;
    private final RunLock lock;
    private RunState state;
    private static final String METRICS = "metrics.jsonl";
    /** {@link Result#stoppedBy} of a rank that stopped because another rank of its distributed run was asked to. */
    public static final String PEER_STOP = "a stop on another rank";

    /**
     * What {@link #run()} leaves: the final state, the last loss, the checkpoint; {@code stoppedBy} names the signal
     * that stopped the run early (null if it ran to its end), and {@code alreadyFinished} says a resumed run had
     * nothing left to do (nothing was written).
     */
    public record Result(RunState state, double lastLoss, Path checkpoint, long stepsThisSession, String stoppedBy,
                         boolean alreadyFinished) {}

    /** Starts a new run in {@code run} (which must not hold a checkpoint), or resumes the one there unchanged. */
    public Trainer(TrainOptions options, Path run, boolean resume, PrintStream log) throws IOException {
        this(resume ? null : options, run, resume, null, log, Objectives::create, null);
    }

    /**
     * Starts (or, with {@code resume}, continues) one rank of a data-parallel run over {@code dp}: --batch-size is the
     * global batch, each rank computes its shard, and the result equals one process training on the whole batch. Every
     * rank must see {@code run} (a shared directory across machines); rank 0 alone writes it. {@code amend} applies on
     * resume as in {@link #resume}.
     */
    public static Trainer distributed(TrainOptions options, Path run, boolean resume, UnaryOperator<TrainOptions> amend,
                                      PrintStream log, dev.clip4j.dist.DataParallel dp) throws IOException {
        return new Trainer(resume ? null : options, run, resume, amend, log, Objectives::create, dp);
    }

    /** Starts a new run of {@code objective} (CLIP's contrastive one by default). */
    public static Trainer start(TrainOptions options, Path run, PrintStream log, Objective.Factory objective) throws IOException {
        return new Trainer(options, run, false, null, log, objective, null);
    }

    /** Resumes the run in {@code run}; {@code amend} may change what can change (time budget, epochs, intervals). */
    public static Trainer resume(Path run, UnaryOperator<TrainOptions> amend, PrintStream log) throws IOException {
        return new Trainer(null, run, true, amend, log, Objectives::create, null);
    }

    /** Resumes a run of {@code objective} (the one it was started with). */
    public static Trainer resume(Path run, UnaryOperator<TrainOptions> amend, PrintStream log, Objective.Factory objective)
            throws IOException {
        return new Trainer(null, run, true, amend, log, objective, null);
    }

    private Trainer(TrainOptions options, Path run, boolean resume, UnaryOperator<TrainOptions> amend, PrintStream log,
                    Objective.Factory factory, dev.clip4j.dist.DataParallel dp) throws IOException {
        this.run = run;
        this.log = log;
        this.dp = dp;
        boolean leader = dp == null || dp.isLeader();
        boolean created = !Files.exists(run);
        if (resume && created) throw new InputException(run + ": no such run directory to resume");
        if (!resume) options.validate();
        if (dp != null && !resume) dp.localBatch(options.batchSize());
        this.lock = leader ? RunLock.acquire(run) : null;
        try {
            if (leader) {
                int removed = RunCheckpoint.tidy(run);
                if (removed > 0) log.println("clip4j: removed " + removed + " leftover checkpoint director" + (removed == 1 ? "y" : "ies")
                        + " of an interrupted save in " + run);
            }
            if (dp != null) dp.barrier(); // the others read the run only once rank 0 has tidied it
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
                if (leader) Files.deleteIfExists(run.resolve(METRICS));
                Torch.manualSeed(o.seed());
                this.model = o.pretrain() != null ? dev.clip4j.pretrain.PretrainModels.create(o)
                        : o.init() != null ? ClipCheckpoint.loadModel(Path.of(o.init())) : ClipModel.create(config(o.arch()));
                this.state = new RunState(0, 0, 0, 0, 0, 0);
            }
            boolean frameData = dev.clip4j.data.FrameFeatureDataset.isFrameData(o.data());
            this.frames = frameData ? dev.clip4j.data.FrameFeatureDataset.open(o.data()) : null;
            this.data = frameData ? null : Datasets.open(o.data());
            if (frameData && (o.pretrain() == null || !o.pretrain().modelType().equals(dev.clip4j.pretrain.PretrainOptions.SINGLE_STREAM))) {
                throw new InputException(o.data() + ": frame features train the single-stream model only (pretrain --model-type single-stream)");
            }
            if (frameData && o.evalData() != null) throw new InputException("zero-shot evaluation during training needs images, not frame features");
            if (dataSize() < o.batchSize()) {
                throw new DatasetException(o.data() + ": " + dataSize() + " examples, fewer than the batch size " + o.batchSize());
            }
            int perEpoch = dataSize() / o.batchSize();
            if (resume && o.epochs() > 0 && state.totalSteps() != (long) o.epochs() * perEpoch) {
                // more (or fewer) epochs than the run was started with: the schedule spans the new total
                state = new RunState(state.step(), (long) o.epochs() * perEpoch, state.epoch(), state.batchInEpoch(),
                        state.elapsedSeconds(), state.samplesSeen());
            }
            model.train(true);
            this.objective = factory.create(model, o);
            if (!resume) objective.initializeFresh();
            objective.extraModules().values().forEach(m -> m.train(true));
            if (resume) RunCheckpoint.restoreExtraState(existing, objective);
            this.trainable = objective.trainableParameters();
            this.optimizer = ParameterGroups.optimizer(trainable, objective::decays, o.lr(), o.weightDecay());
            if (resume) {
                RunCheckpoint.restoreOptimizer(existing, optimizer);
                if (leader) trimMetrics(run.resolve(METRICS), state.step());
            }
            if (dp != null) {
                dp.localBatch(o.batchSize());
                objective.distribute(dp);
                // identical replicas from the start: rank 0's weights and extra modules (equal already with one seed)
                java.util.List<Tensor> shared = new java.util.ArrayList<>(model.stateDict().values());
                objective.extraModules().values().forEach(m -> shared.addAll(m.stateDict().values()));
                dp.broadcastFromLeader(shared);
            }
        } catch (IOException | RuntimeException | Error e) {
            if (lock != null) lock.close();
            if (created && leader) removeIfOnlyLock(run);
            throw e;
        }
    }

    private int dataSize() {
        return frames != null ? frames.size() : data.size();
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

    /** Whether this process writes the run: always on one process, rank 0 in a distributed run. */
    public boolean isLeader() {
        return dp == null || dp.isLeader();
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
            if (lock != null) lock.close();
        }
    }

    /** Adds a listener (beside the progress bar, the metrics log and the periodic evaluation). */
    public Trainer listen(TrainingListener listener) {
        extraListeners.add(listener);
        return this;
    }

    public Objective objective() {
        return objective;
    }

    private Result train(long stopAt) throws IOException {
        int perEpoch = dataSize() / o.batchSize();
        long total = state.totalSteps();
        if (total == 0 && o.epochs() > 0) total = (long) o.epochs() * perEpoch;
        int res = model.imageResolution();
        double lastLoss = Double.NaN;
        long startNanos = System.nanoTime();
        double elapsedBefore = state.elapsedSeconds();
        BatchLoader loader = null;
        int loaderEpoch = -1;
        int[] frameOrder = null;
        String stoppedBy = null;
        final long sessionStart = state.step();
        long savedAt = state.step();
        boolean leader = dp == null || dp.isLeader();
        dev.clip4j.data.BatchLoader.Shard shard = dp == null ? dev.clip4j.data.BatchLoader.Shard.WHOLE : dp.shard();
        try (MetricsLog metrics = leader ? new MetricsLog(run.resolve(METRICS)) : null) {
            List<TrainingListener> listeners = new java.util.ArrayList<>();
            if (leader) {
                // in a distributed run the other ranks write nothing: one metrics log, one progress bar
                listeners.addAll(List.of(metrics, new ProgressBar(log, o.timeBudgetSeconds())));
                if (o.evalData() != null && o.evalEvery() > 0) listeners.add(new PeriodicZeroShot(model, o.evalData(), o.evalEvery(), metrics));
                listeners.addAll(extraListeners);
            }
            long step = state.step();
            final boolean budgetOnly = o.epochs() <= 0 && o.timeBudgetSeconds() > 0;
            TimeBudgetHorizon horizon = new TimeBudgetHorizon(o.timeBudgetSeconds(), step);
            long samples = state.samplesSeen();
            double commBefore = dp == null ? 0 : dp.traffic().seconds();
            while ((total == 0 || step < total || budgetOnly) && step < stopAt) {
                boolean stop = StopSignal.requested();
                double elapsed = elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
                if (dp != null) {
                    // every rank takes the same decision: a stop on any rank stops all, the budget counts rank by rank's max
                    dev.clip4j.dist.DataParallel.Agreement a = dp.agree(stop, elapsed);
                    stop = a.stop();
                    elapsed = a.elapsedSeconds();
                }
                if (stop) {
                    // between steps: no native call is running; the checkpoint below makes the run resumable
                    stoppedBy = StopSignal.requested() ? StopSignal.reason() : PEER_STOP;
                    break;
                }
                if (o.timeBudgetSeconds() > 0 && elapsed >= o.timeBudgetSeconds()) break;
                int epoch = (int) (step / perEpoch), inEpoch = (int) (step % perEpoch);
                if (frames != null) {
                    // frame features: the same seeded epoch order; features are read from the file per batch
                    if (epoch != loaderEpoch) {
                        frameOrder = BatchLoader.epochOrder(frames.size(), o.seed(), epoch);
                        loaderEpoch = epoch;
                    }
                } else if (epoch != loaderEpoch) {
                    if (loader != null) loader.close();
                    loader = new BatchLoader(data, BatchLoader.epochOrder(data.size(), o.seed(), epoch), inEpoch, o.batchSize(),
                            o.augment() ? new RandomResizedCrop(res) : ImageTransform.evaluation(res),
                            TextTransform.clip(model.contextLength()), new Collator(res, model.contextLength()), o.seed() + epoch,
                            o.loaderThreads(), 4, o.simclrWeight() > 0 ? new RandomResizedCrop(res) : null, shard);
                    loaderEpoch = epoch;
                }
                BatchLoader.Batch b = frames != null ? null : loader.next();
                int batchSize = o.batchSize(); // the global batch: every rank counts all ranks' samples
                long schedTotal = total == 0 ? TimeBudgetHorizon.provisional(step) : total;
                double lr = new LearningRateSchedule(o.lr(), o.warmupSteps(), schedTotal).at(step);
                objective.beforeStep(step, step / (double) perEpoch);
                TrainStep.Outcome outcome;
                try (Scope scope = Scope.open()) {
                    TrainBatch batch;
                    if (frames != null) {
                        int local = o.batchSize() / shard.count(), from = inEpoch * o.batchSize() + shard.index() * local;
                        batch = frameBatch(java.util.Arrays.copyOfRange(frameOrder, from, from + local));
                    } else {
                        Tensor images = Tensors.fromFloats(b.images(), b.size(), 3, res, res);
                        Tensor tokens = Tensors.fromLongs(b.tokens(), b.size(), b.textLength());
                        Tensor second = b.secondView() == null ? null : Tensors.fromFloats(b.secondView(), b.size(), 3, res, res);
                        batch = new TrainBatch(images, tokens, b.labels(), second);
                    }
                    outcome = TrainStep.run(objective, optimizer, trainable, batch, lr, o.clipNorm(), dp);
                }
                Map<String, Double> losses = outcome.losses();
                double gradNorm = outcome.gradNorm();
                lastLoss = losses.getOrDefault("loss", Double.NaN);
                step++;
                samples += batchSize;
                elapsed = elapsedBefore + (System.nanoTime() - startNanos) / 1e9;
                if (dp != null) elapsed = dp.agree(false, elapsed).elapsedSeconds(); // one schedule on every rank
                if (budgetOnly) total = horizon.update(step, elapsed, total);
                state = new RunState(step, total, (int) (step / perEpoch), (int) (step % perEpoch), elapsed, samples);
                Map<String, Double> stepMetrics = objective.metrics();
                if (dp != null) {
                    // rank 0's time in collectives this step (waits for slower ranks included): the communication share
                    stepMetrics = new java.util.LinkedHashMap<>(stepMetrics);
                    double comm = dp.traffic().seconds();
                    stepMetrics.put("comm_seconds", comm - commBefore);
                    commBefore = comm;
                }
                TrainingListener.Step event = new TrainingListener.Step(step, total, step / (double) perEpoch, losses, lr, gradNorm,
                        samples / Math.max(1e-9, elapsed), elapsed, stepMetrics);
                for (TrainingListener l : listeners) l.onStep(event);
                if (o.checkpointEvery() > 0 && step % o.checkpointEvery() == 0) {
                    for (TrainingListener l : listeners) l.beforeCheckpoint(step);
                    if (leader) RunCheckpoint.save(run, objective, optimizer, o, state);
                    savedAt = step;
                }
            }
            state = new RunState(state.step(), total, state.epoch(), state.batchInEpoch(), state.elapsedSeconds(), state.samplesSeen());
            for (TrainingListener l : listeners) l.beforeCheckpoint(state.step());
            if (state.step() > savedAt && leader) {
                RunCheckpoint.save(run, objective, optimizer, o, state);
            }
            // the others leave once rank 0's checkpoint is complete (a launcher may stop the group when one exits)
            if (dp != null) dp.barrier();
            for (TrainingListener l : listeners) l.onEnd(state);
            if (stoppedBy != null && leader) {
                log.println("clip4j: stopped by " + stoppedBy + " after step " + state.step()
                        + (state.step() > 0 ? "; checkpoint written, continue with resume" : "; nothing to save"));
            }
        } finally {
            if (loader != null) loader.close();
        }
        return new Result(state, lastLoss, run.resolve(RunCheckpoint.DIR), state.step() - sessionStart, stoppedBy, false);
    }

    /** A batch of frame-feature clips: their frames, validity and tokenized captions (no images). */
    private TrainBatch frameBatch(int[] clips) {
        long[][] rows = new long[clips.length][];
        dev.clip4j.tokenizer.ClipTokenizer tok = dev.clip4j.tokenizer.ClipTokenizer.getDefault();
        for (int i = 0; i < clips.length; i++) rows[i] = tok.tokenize(frames.caption(clips[i]), model.contextLength(), true);
        Tensor frameMask = Tensors.fromBooleans(frames.mask(clips), clips.length, frames.frames());
        int[] labels = new int[clips.length];
        java.util.Arrays.fill(labels, -1);
        return new TrainBatch(null, Tensors.fromRows(rows), labels, null, frames.features(clips), frameMask);
    }

    /** {@code logit_scale.clamp_(0, ln 100)}, as CLIP training does after each step. */
    public static void clampLogitScale(ClipModel model) {
        ContrastiveObjective.clampLogitScale(model);
    }

}
