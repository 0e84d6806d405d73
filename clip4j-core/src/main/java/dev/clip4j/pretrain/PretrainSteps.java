package dev.clip4j.pretrain;

import java.util.SplittableRandom;

/**
 * What pretraining objectives share about a step: the seeded generator each step draws its masks and negatives from
 * (a function of the run's seed and the step, so a resumed run draws the same), the ramp of the distillation weight,
 * and the trimming of token rows to the batch's longest caption.
 */
public final class PretrainSteps {
    private PretrainSteps() {}

    /** The generator of step {@code step} of a run seeded {@code seed}. */
    public static SplittableRandom random(long seed, long step) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL);
    }

    /** ALBEF's α: ramped linearly over the first epoch ({@code epoch} is fractional), then constant. */
    public static double alpha(double alpha, double epoch) {
        return alpha * Math.min(1.0, Math.max(0.0, epoch));
    }

    /**
     * The number of token columns that matter: the last end-of-text position of the batch, plus one. With padding
     * masked as keys and only positions up to end-of-text read, the columns after it change nothing, so the
     * encoders run on this many (emoji captions are ~6 tokens of CLIP's 77).
     */
    public static int usedLength(long[] tokens, int rows, int length) {
        int used = 1;
        for (int r = 0; r < rows; r++) used = Math.max(used, MlmMasking.endOfText(tokens, r, length) + 1);
        return used;
    }

    /** The first {@code used} columns of each row. */
    public static long[] trim(long[] tokens, int rows, int length, int used) {
        long[] out = new long[rows * used];
        for (int r = 0; r < rows; r++) System.arraycopy(tokens, r * length, out, r * used, used);
        return out;
    }
}
