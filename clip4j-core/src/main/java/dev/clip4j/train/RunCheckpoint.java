package dev.clip4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.model.ClipModel;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A run's checkpoint directory ({@code <run>/checkpoint}): the model as a clip4j model directory, the optimizer
 * moments, the options and the run state. It is written whole into a temporary directory, then swapped in by
 * renames, so a crash (even {@code kill -9}) leaves the previous checkpoint ({@code checkpoint} or, mid-swap,
 * {@code checkpoint.old}) intact.
 */
public final class RunCheckpoint {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final String DIR = "checkpoint";

    private RunCheckpoint() {}

    public record Saved(TrainOptions options, RunState state, Path dir) {}

    public static void save(Path run, ClipModel model, AdamW optimizer, TrainOptions options, RunState state)
            throws IOException {
        Path tmp = Files.createTempDirectory(run, ".checkpoint.");
        try {
            ClipCheckpoint.save(model, tmp);
            Safetensors.write(tmp.resolve("optimizer.safetensors"), optimizer.state(),
                    Map.of("steps", Long.toString(optimizer.steps())));
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("options", options);
            meta.put("state", state);
            Files.writeString(tmp.resolve("trainer.json"), JSON.writeValueAsString(meta));
            Path current = run.resolve(DIR), old = run.resolve(DIR + ".old");
            dev.clip4j.data.DataFiles.deleteTree(old);
            if (Files.exists(current)) Files.move(current, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp, current, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            dev.clip4j.data.DataFiles.deleteTree(old);
        } finally {
            dev.clip4j.data.DataFiles.deleteTree(tmp);
        }
    }

    /** The newest complete checkpoint of a run directory, or null. */
    public static Path find(Path run) {
        for (String name : new String[] {DIR, DIR + ".old"}) {
            Path d = run.resolve(name);
            if (Files.exists(d.resolve("trainer.json"))) return d;
        }
        return null;
    }

    public static Saved read(Path dir) throws IOException {
        var root = JSON.readTree(dir.resolve("trainer.json").toFile());
        return new Saved(JSON.treeToValue(root.get("options"), TrainOptions.class),
                JSON.treeToValue(root.get("state"), RunState.class), dir);
    }

    public static void restoreOptimizer(Path dir, AdamW optimizer) {
        Path f = dir.resolve("optimizer.safetensors");
        Map<String, Tensor> state = Safetensors.read(f);
        long steps = Long.parseLong(Safetensors.readHeader(f).metadata().getOrDefault("steps", "0"));
        optimizer.loadState(state, steps);
    }
}
