package dev.clip4j.train;

/** Linear warmup to the base rate, then cosine decay to zero at the last step (open_clip's {@code cosine_lr}). */
public record LearningRateSchedule(double baseLr, long warmupSteps, long totalSteps) {
    public double at(long step) {
        if (step < warmupSteps) return baseLr * (step + 1) / warmupSteps;
        long e = step - warmupSteps, es = Math.max(1, totalSteps - warmupSteps);
        return 0.5 * (1 + Math.cos(Math.PI * Math.min(e, es) / es)) * baseLr;
    }
}
