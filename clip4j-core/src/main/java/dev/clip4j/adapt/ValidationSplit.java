package dev.clip4j.adapt;

/**
 * The validation split every few-shot method tunes on, carved from the training shots only (never the test data):
 * with K ≥ 2 shots per class, the last ⌈K/4⌉ shots of each class (in sampled order) validate and the rest train; with
 * one shot there is nothing to carve, and methods fall back to their papers' defaults (and say so).
 */
public final class ValidationSplit {
    private ValidationSplit() {}

    /** Validation shots per class for K shots: ⌈K/4⌉, or 0 for one shot. */
    public static int validationShots(int shots) {
        return shots < 2 ? 0 : (shots + 3) / 4;
    }

    /**
     * Whether position {@code i} of a {@link FewShot} sample ({@code shots} per class, classes in order) validates.
     */
    public static boolean validates(int i, int shots) {
        return i % shots >= shots - validationShots(shots);
    }
}
