package dev.clip4j.cli;

import dev.clip4j.model.ClipModel;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;

/** Writes a run's report.md and plots (filled in by later steps). */
final class RunReport {
    private RunReport() {}

    static void write(Path run, ClipModel model, TrainOptions o, Trainer.Result r) throws IOException {
        // placeholder replaced below
    }
}
