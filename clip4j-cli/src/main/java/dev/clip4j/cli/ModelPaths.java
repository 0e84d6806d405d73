package dev.clip4j.cli;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipModel;
import dev.clip4j.train.RunCheckpoint;

import java.nio.file.Path;

/** Wherever a model is expected, a training run directory works too (its latest checkpoint). */
final class ModelPaths {
    private ModelPaths() {}

    static Path resolve(Path p) {
        Path ck = RunCheckpoint.find(p);
        return ck != null ? ck : p;
    }

    static ClipModel load(Path p) {
        return ClipCheckpoint.loadModel(resolve(p));
    }
}
