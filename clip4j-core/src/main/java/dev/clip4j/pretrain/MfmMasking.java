package dev.clip4j.pretrain;

import java.util.SplittableRandom;

/**
 * The seed's {@code torch_mask_frames}: each valid frame is chosen with probability 0.9·p (invalid frames never), and a
 * chosen frame's features are zeroed in the input; the label of a chosen frame is its flat index {@code b·T + t}, -100
 * elsewhere. Seeded, over plain arrays, as {@link MlmMasking}.
 */
public final class MfmMasking {
    private MfmMasking() {}

    /** Which frames were chosen ({@code rows × frames}), their labels, and how many. */
    public record Masked(boolean[] chosen, long[] labels, int count) {}

    public static Masked mask(boolean[] valid, int rows, int frames, double probability, SplittableRandom random) {
        if (!(probability > 0 && probability < 1)) throw new IllegalArgumentException("MFM probability must be in (0, 1), got " + probability);
        if (valid.length != (long) rows * frames) throw new IllegalArgumentException("frame mask is not rows × frames");
        boolean[] chosen = new boolean[valid.length];
        long[] labels = new long[valid.length];
        int count = 0;
        for (int i = 0; i < valid.length; i++) {
            // the seed's probability matrix is 0.9·p times the validity mask
            chosen[i] = valid[i] && random.nextDouble() < 0.9 * probability;
            labels[i] = chosen[i] ? i : MlmMasking.IGNORE;
            if (chosen[i]) count++;
        }
        return new Masked(chosen, labels, count);
    }
}
