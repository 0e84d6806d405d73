package dev.clip4j.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a model is expected, a training run directory works too: it resolves to the run's newest complete checkpoint.
 * The run layout lives here (not in {@code train/}) so every loader resolves run directories the same way.
 */
public final class ModelLocator {
    /** A run's checkpoint directory, its predecessor during a swap, and the prefix of checkpoints being written. */
    public static final String CHECKPOINT = "checkpoint", OLD = CHECKPOINT + ".old", TEMP_PREFIX = "." + CHECKPOINT + ".";
    /** Written last into a checkpoint directory: its presence marks the checkpoint complete. */
    public static final String MARK = "trainer.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelLocator() {}

    /** The model a path names: itself, or, for a training run directory, its newest complete checkpoint. */
    public static Path resolve(Path path) {
        if (Files.isDirectory(path) && !Files.exists(path.resolve(ClipCheckpoint.CONFIG_FILE))
                && !Files.exists(path.resolve("config.json"))) {
            Path ck = newestCheckpoint(path);
            if (ck != null) return ck;
        }
        return path;
    }

    /** The newest complete checkpoint of a run directory (the most steps; {@code checkpoint} on a tie), or null. */
    public static Path newestCheckpoint(Path run) {
        Path best = null;
        long bestStep = -1;
        for (Path d : candidates(run)) {
            if (!isComplete(d)) continue;
            long step;
            try {
                step = JSON.readTree(d.resolve(MARK).toFile()).path("state").path("step").asLong(-1);
            } catch (IOException e) {
                continue; // unreadable mark: not a checkpoint
            }
            if (step > bestStep) {
                best = d;
                bestStep = step;
            }
        }
        return best;
    }

    public static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve(MARK));
    }

    /** {@code checkpoint}, {@code checkpoint.old}, then the temporaries, in that order (existing directories only). */
    public static List<Path> candidates(Path run) {
        List<Path> out = new ArrayList<>(List.of(run.resolve(CHECKPOINT), run.resolve(OLD)));
        if (Files.isDirectory(run)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(run, TEMP_PREFIX + "*")) {
                ds.forEach(out::add);
            } catch (IOException e) {
                // unreadable run directory: only the two fixed names
            }
        }
        out.removeIf(p -> !Files.isDirectory(p));
        return out;
    }
}
