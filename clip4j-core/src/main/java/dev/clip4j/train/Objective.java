package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.nn.Module;
import org.bytedeco.pytorch.Tensor;

import java.util.Map;

/**
 * What a training run optimises, apart from the loop around it ({@link Trainer}): which parameters train, a step on
 * a batch giving named losses, a hook after each optimizer step (clamps, EMA updates), and the state it owns besides
 * the CLIP model ({@link #extraModules}: heads, prompt vectors, queues), which checkpoints save and resume restores.
 */
public interface Objective {
    /** The CLIP model being trained or adapted (saved as the checkpoint's model). */
    ClipModel model();

    /** Modules the objective owns besides the model, by name; their whole state dicts are checkpointed. */
    default Map<String, Module> extraModules() {
        return Map.of();
    }

    /** The parameters to train, by unique name: the model's under OpenAI names, extras as {@code <module>.<param>}. */
    Map<String, Tensor> trainableParameters();

    /** Whether a trainable parameter gets weight decay. */
    boolean decays(String name);

    /** Forward and backward on one batch (gradients accumulate); the named losses, {@code "loss"} being the total. */
    Map<String, Double> step(TrainBatch batch);

    /**
     * Before each step's {@link #step}: the run's step number (0-based, as many steps done before) and epoch (fractional),
     * for objectives whose randomness or schedule depends on them (pretraining's masks, its distillation ramp), so a
     * resumed run repeats them exactly.
     */
    default void beforeStep(long step, double epoch) {}

    /**
     * Makes the objective compute its losses over the global batch of a data-parallel run ({@link Trainer#distributed}),
     * or refuses with an {@link dev.clip4j.InputException} saying why; by default objectives train on one process only.
     */
    default void distribute(dev.clip4j.dist.DataParallel dp) {
        throw new dev.clip4j.InputException("this objective trains on one process only (no distributed form yet)");
    }

    /** Once, at the start of a new run (never on resume): e.g. a loss's own initial temperature. */
    default void initializeFresh() {}

    /** After each optimizer step: clamps, momentum updates, queue pushes. */
    default void afterOptimizerStep() {}

    /** Values to log with each step (e.g. {@code logit_scale}). */
    default Map<String, Double> metrics() {
        return Map.of();
    }

    /** Builds the objective of a run from its model and options (at the start and again on resume). */
    @FunctionalInterface
    interface Factory {
        Objective create(ClipModel model, TrainOptions options);
    }
}
