package dev.clip4j.train;

import java.io.IOException;
import java.util.Map;

/** Watches a training loop: progress display, metrics files, periodic evaluation. */
public interface TrainingListener {
    /**
     * One finished step: {@code step} (1-based), the schedule's {@code total} (0 if unknown), the named losses, the
     * learning rate, the gradient norm (NaN without clipping), throughput and elapsed seconds for the whole run, and
     * the objective's metrics.
     */
    record Step(long step, long total, double epoch, Map<String, Double> losses, double lr, double gradNorm,
                double samplesPerSecond, double elapsedSeconds, Map<String, Double> metrics) {
        public double loss() {
            return losses.getOrDefault("loss", Double.NaN);
        }
    }

    default void onStep(Step step) throws IOException {}

    /** Before a checkpoint is written (flush what must be on disk with it). */
    default void beforeCheckpoint(long step) throws IOException {}

    /** The session ends (finished, stopped or budget spent). */
    default void onEnd(RunState state) throws IOException {}
}
