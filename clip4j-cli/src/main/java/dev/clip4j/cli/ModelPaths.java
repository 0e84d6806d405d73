package dev.clip4j.cli;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.ModelLocator;
import dev.clip4j.model.ClipModel;

import java.nio.file.Path;

/** Wherever a model is expected, a training run directory works too (its latest checkpoint): see {@link ModelLocator}. */
final class ModelPaths {
    private ModelPaths() {}

    static Path resolve(Path p) {
        return ModelLocator.resolve(p);
    }

    static ClipModel load(Path p) {
        return ClipCheckpoint.loadModel(p);
    }
}
