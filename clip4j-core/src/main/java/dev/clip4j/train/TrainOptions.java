package dev.clip4j.train;

import java.time.Duration;

/**
 * Everything that defines a training run (saved with its checkpoints, so {@code --resume} continues the same run).
 *
 * @param timeBudgetSeconds 0 for none; with a budget and no epochs the schedule spans the steps the budget allows,
 *                          estimated from the first steps' speed
 */
public record TrainOptions(
        String data,
        String arch,
        String init,
        int epochs,
        long timeBudgetSeconds,
        int batchSize,
        int microBatch,
        double lr,
        int warmupSteps,
        double weightDecay,
        double clipNorm,
        long seed,
        int checkpointEvery,
        boolean lockImage,
        boolean lockText,
        boolean bf16,
        boolean augment,
        String evalData,
        int evalEvery,
        int loaderThreads) {

    public static long parseDuration(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (t.endsWith("h")) return Long.parseLong(t.substring(0, t.length() - 1)) * 3600;
            if (t.endsWith("m")) return Long.parseLong(t.substring(0, t.length() - 1)) * 60;
            if (t.endsWith("s")) return Long.parseLong(t.substring(0, t.length() - 1));
            if (t.startsWith("p")) return Duration.parse(s).getSeconds();
            return Long.parseLong(t);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad duration '" + s + "' (use e.g. 90s, 10m, 2h)");
        }
    }
}
