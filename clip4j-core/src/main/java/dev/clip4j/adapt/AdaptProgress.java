package dev.clip4j.adapt;

import dev.clip4j.train.ProgressBar;
import dev.clip4j.train.RunState;
import dev.clip4j.train.TrainingListener;

import java.io.PrintStream;
import java.util.Map;

/** Training's progress bar (step, loss, samples/s, ETA) for an adaptation's steps; silent without a log. */
final class AdaptProgress {
    private final ProgressBar bar;
    private final long total, start = System.nanoTime();
    private long samples;

    AdaptProgress(PrintStream log, long totalSteps) {
        bar = log == null ? null : new ProgressBar(log, 0);
        total = totalSteps;
    }

    void step(long step, double epoch, double loss, double lr, int batch) {
        samples += batch;
        if (bar == null) return;
        double elapsed = (System.nanoTime() - start) / 1e9;
        bar.onStep(new TrainingListener.Step(step, total, epoch, Map.of("loss", loss), lr, Double.NaN,
                elapsed > 0 ? samples / elapsed : 0, elapsed, Map.of()));
    }

    void end() {
        if (bar != null) bar.onEnd(new RunState(total, total, 0, 0, (System.nanoTime() - start) / 1e9, samples));
    }
}
