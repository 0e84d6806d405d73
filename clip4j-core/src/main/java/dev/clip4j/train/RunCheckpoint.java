package dev.clip4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.ModelLocator;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.data.DataFiles;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.model.ClipModel;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's checkpoint directory ({@code <run>/checkpoint}): the model as a clip4j model directory, the optimizer
 * moments, the options and the run state.
 *
 * <p>Crash safety: a checkpoint is written whole into {@code .checkpoint.<random>}, its {@code trainer.json} last
 * (the completeness mark), then swapped in: {@code checkpoint → checkpoint.old}, {@code .checkpoint.* → checkpoint},
 * delete {@code checkpoint.old}. Nothing complete is deleted before its successor is complete, and {@link #find}
 * considers every complete candidate (the three names) and takes the one with the most steps, so a complete
 * checkpoint is visible at every instant, whatever number of {@code kill -9}s land between the steps.
 * {@link #tidy} (at the start of a run, under the run lock) promotes the newest to {@code checkpoint} and removes
 * the rest, including incomplete temporaries.
 */
public final class RunCheckpoint {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    public static final String DIR = ModelLocator.CHECKPOINT;
    static final String OLD = ModelLocator.OLD, TEMP_PREFIX = ModelLocator.TEMP_PREFIX, MARK = ModelLocator.MARK;
    /**
     * Fault injection for the crash-safety tests only: {@code -Dclip4j.test.crashAt=POINT:N} halts the JVM (as
     * {@code kill -9} would: no finally blocks, no shutdown hooks) at the N-th save's POINT: {@code written},
     * {@code moved-current} or {@code moved-new}.
     */
    private static final String CRASH_AT = System.getProperty("clip4j.test.crashAt");
    private static int saves;

    private RunCheckpoint() {}

    public record Saved(TrainOptions options, RunState state, Path dir) {}

    /** The objective's state besides the model: every tensor of its extra modules, as {@code <module>.<name>}. */
    static final String EXTRA = "objective.safetensors";

    public static void save(Path run, Objective objective, AdamW optimizer, TrainOptions options, RunState state)
            throws IOException {
        Map<String, Tensor> extra = new LinkedHashMap<>();
        objective.extraModules().forEach((name, m) -> m.stateDict().forEach((k, v) -> extra.put(name + "." + k, v)));
        save(run, objective.model(), extra, optimizer, options, state);
    }

    private static void save(Path run, ClipModel model, Map<String, Tensor> extra, AdamW optimizer, TrainOptions options,
                             RunState state) throws IOException {
        saves++;
        Path tmp = Files.createTempDirectory(run, TEMP_PREFIX);
        boolean swapped = false;
        try {
            ClipCheckpoint.save(model, tmp);
            Safetensors.write(tmp.resolve("optimizer.safetensors"), optimizer.state(),
                    Map.of("steps", Long.toString(optimizer.steps())));
            if (!extra.isEmpty()) {
                Map<String, Tensor> detached = new LinkedHashMap<>();
                extra.forEach((k, v) -> detached.put(k, v.detach()));
                Safetensors.write(tmp.resolve(EXTRA), detached, Map.of("producer", "clip4j"));
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("options", options);
            meta.put("state", state);
            AtomicFiles.writeString(tmp.resolve(MARK), JSON.writeValueAsString(meta));
            crashPoint("written");
            Path current = run.resolve(DIR), old = run.resolve(OLD);
            if (Files.exists(current)) {
                // checkpoint.old is only deleted while checkpoint is complete; then checkpoint becomes the old one
                if (complete(current)) DataFiles.deleteTree(old);
                else DataFiles.deleteTree(current);
                if (Files.exists(current)) Files.move(current, old, StandardCopyOption.ATOMIC_MOVE);
            }
            crashPoint("moved-current");
            Files.move(tmp, current, StandardCopyOption.ATOMIC_MOVE);
            swapped = true;
            crashPoint("moved-new");
            DataFiles.deleteTree(old);
        } finally {
            if (!swapped) DataFiles.deleteTree(tmp);
        }
    }

    private static void crashPoint(String point) {
        if (CRASH_AT != null && CRASH_AT.equals(point + ":" + saves)) Runtime.getRuntime().halt(137);
    }

    private static boolean complete(Path dir) {
        return ModelLocator.isComplete(dir);
    }

    /** The newest complete checkpoint of a run directory (the most steps; {@code checkpoint} on a tie), or null. */
    public static Path find(Path run) {
        return ModelLocator.newestCheckpoint(run);
    }

    private static List<Path> candidates(Path run) {
        return ModelLocator.candidates(run);
    }

    /**
     * After a crash: the newest complete checkpoint becomes {@code checkpoint}; every other candidate (older
     * checkpoints, incomplete temporaries) is removed. Call only while holding the run lock (no writer is active).
     *
     * @return the number of leftover directories removed
     */
    public static int tidy(Path run) throws IOException {
        Path best = find(run), current = run.resolve(DIR);
        int removed = 0;
        if (best != null && !best.equals(current)) {
            if (Files.exists(current)) {
                Path stale = Files.createTempDirectory(run, TEMP_PREFIX + "stale-");
                Files.delete(stale);
                Files.move(current, stale, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(best, current, StandardCopyOption.ATOMIC_MOVE);
        }
        for (Path d : candidates(run)) {
            if (d.equals(current) && best != null) continue;
            DataFiles.deleteTree(d);
            removed++;
        }
        return removed;
    }

    public static Saved read(Path dir) throws IOException {
        JsonNode root = JSON.readTree(dir.resolve(MARK).toFile());
        return new Saved(TrainOptions.fromJson(root.get("options")), JSON.treeToValue(root.get("state"), RunState.class), dir);
    }

    /** Restores the objective's extra modules from a checkpoint (each must find all its tensors there). */
    public static void restoreExtraState(Path dir, Objective objective) {
        if (objective.extraModules().isEmpty()) return;
        Path f = dir.resolve(EXTRA);
        if (!Files.exists(f)) throw new dev.clip4j.InputException(dir + ": checkpoint has no " + EXTRA + " for the objective's modules");
        Map<String, Tensor> all = Safetensors.read(f);
        objective.extraModules().forEach((name, m) -> {
            Map<String, Tensor> mine = new LinkedHashMap<>();
            all.forEach((k, v) -> {
                if (k.startsWith(name + ".")) mine.put(k.substring(name.length() + 1), v);
            });
            try {
                m.load(mine, f + " (" + name + ")");
            } catch (IllegalArgumentException e) {
                throw new dev.clip4j.InputException(e.getMessage());
            }
        });
    }

    public static void restoreOptimizer(Path dir, AdamW optimizer) {
        Path f = dir.resolve("optimizer.safetensors");
        Map<String, Tensor> state = Safetensors.read(f);
        long steps = Long.parseLong(Safetensors.readHeader(f).metadata().getOrDefault("steps", "0"));
        optimizer.loadState(state, steps);
    }
}
