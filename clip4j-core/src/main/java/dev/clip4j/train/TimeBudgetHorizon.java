package dev.clip4j.train;

/**
 * With only a time budget, how many steps the schedule spans: the steps the remaining budget allows at the recent
 * speed, measured over steps 5..25 of the session and re-estimated every 50 steps (the machine's speed drifts, and
 * the first steps are slow).
 */
final class TimeBudgetHorizon {
    static final int ESTIMATE_FROM = 5, ESTIMATE_AFTER = 25, ESTIMATE_EVERY = 50;
    private final long budgetSeconds, firstStep;
    private long estimateStart;

    TimeBudgetHorizon(long budgetSeconds, long firstStep) {
        this.budgetSeconds = budgetSeconds;
        this.firstStep = firstStep;
    }

    /** Before an estimate exists: a provisional total long enough that the warmup and cosine start sensibly. */
    static long provisional(long step) {
        return Math.max(step + 1, ESTIMATE_AFTER * 100L);
    }

    /** Called after each step with the run's elapsed seconds; returns the new total, or {@code total} unchanged. */
    long update(long step, double elapsed, long total) {
        long s = step - firstStep;
        if (s % ESTIMATE_EVERY == ESTIMATE_FROM) estimateStart = System.nanoTime();
        if (s >= ESTIMATE_AFTER && (s - ESTIMATE_FROM) % ESTIMATE_EVERY == ESTIMATE_AFTER - ESTIMATE_FROM) {
            double perStep = (System.nanoTime() - estimateStart) / 1e9 / (ESTIMATE_AFTER - ESTIMATE_FROM);
            return Math.max(step + 1, step + (long) ((budgetSeconds - elapsed) / perStep));
        }
        return total;
    }
}
