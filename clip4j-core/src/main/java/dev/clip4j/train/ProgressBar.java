package dev.clip4j.train;

import java.io.PrintStream;

/** The progress bar: step, loss, logit scale, samples/s and ETA, redrawn at most twice a second. */
public final class ProgressBar implements TrainingListener {
    private final PrintStream out;
    private final long timeBudgetSeconds;
    private long lastPrint;

    public ProgressBar(PrintStream out, long timeBudgetSeconds) {
        this.out = out;
        this.timeBudgetSeconds = timeBudgetSeconds;
    }

    @Override
    public void onStep(Step s) {
        long now = System.nanoTime();
        if (now - lastPrint < 500_000_000L && s.step() != s.total()) return;
        lastPrint = now;
        long step = s.step(), total = s.total();
        double elapsed = s.elapsedSeconds();
        String eta = total > 0 && step > 0 ? formatDuration(elapsed / step * (total - step)) : "?";
        if (timeBudgetSeconds > 0) {
            eta = formatDuration(Math.min(timeBudgetSeconds - elapsed, total > 0 ? elapsed / step * (total - step) : 1e9));
        }
        int width = 24, filled = total > 0 ? (int) Math.min(width, width * step / total) : 0;
        StringBuilder extra = new StringBuilder();
        Double scale = s.metrics().get("logit_scale");
        if (scale != null) extra.append(String.format("  scale %.2f", scale));
        out.printf("\r[%s%s] step %d/%s  loss %.4f%s  %.0f samples/s  ETA %s   ", "#".repeat(filled),
                "-".repeat(Math.max(0, width - filled)), step, total > 0 ? Long.toString(total) : "?", s.loss(), extra,
                s.samplesPerSecond(), eta);
        out.flush();
    }

    @Override
    public void onEnd(RunState state) {
        out.println();
    }

    /** {@code 4m07s}, or {@code 1h02m} from an hour on. */
    public static String formatDuration(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
