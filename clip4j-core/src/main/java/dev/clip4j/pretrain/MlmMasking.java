package dev.clip4j.pretrain;

import java.util.SplittableRandom;

/**
 * BERT's masked-language-model corruption, as the seed's {@code torch_mask_tokens} and ALBEF's {@code mask}: each
 * ordinary token is chosen with probability p; of the chosen, 80 % become [MASK], 10 % a random ordinary token, 10 %
 * stay; labels are the original id at chosen positions and -100 elsewhere. [CLS], [SEP] and the padding after [SEP]
 * are never chosen. Written over plain arrays with a seeded generator, so a resumed run draws the same masks.
 */
public final class MlmMasking {
    public static final long IGNORE = -100;

    private MlmMasking() {}

    /** The corrupted rows, their labels ({@link #IGNORE} where not chosen), and how many positions were chosen. */
    public record Masked(long[] inputs, long[] labels, int chosen) {
        /** The flat positions ({@code row · length + column}) that were chosen, in order. */
        public long[] positions() {
            long[] out = new long[chosen];
            for (int i = 0, k = 0; i < labels.length; i++) if (labels[i] != IGNORE) out[k++] = i;
            return out;
        }

        /** The original ids at {@link #positions}. */
        public long[] targets() {
            long[] out = new long[chosen];
            for (int i = 0, k = 0; i < labels.length; i++) if (labels[i] != IGNORE) out[k++] = labels[i];
            return out;
        }
    }

    /** tokens: {@code rows × length} ids, row-major, each row with an end-of-text token. */
    public static Masked mask(long[] tokens, int rows, int length, double probability, SplittableRandom random) {
        if (!(probability > 0 && probability < 1)) throw new IllegalArgumentException("MLM probability must be in (0, 1), got " + probability);
        if (tokens.length != (long) rows * length) throw new IllegalArgumentException("token array is not rows × length");
        long[] inputs = tokens.clone(), labels = new long[tokens.length];
        java.util.Arrays.fill(labels, IGNORE);
        int chosen = 0;
        for (int r = 0; r < rows; r++) {
            int end = endOfText(tokens, r, length);
            for (int j = 0; j < end; j++) {
                int i = r * length + j;
                long id = tokens[i];
                if (id == PretrainVocabulary.CLS || id == PretrainVocabulary.SEP || id == PretrainVocabulary.MASK) continue;
                if (random.nextDouble() >= probability) continue;
                chosen++;
                labels[i] = id;
                double u = random.nextDouble();
                if (u < 0.8) inputs[i] = PretrainVocabulary.MASK;
                else if (u < 0.9) inputs[i] = random.nextInt(PretrainVocabulary.ORDINARY);
            }
        }
        return new Masked(inputs, labels, chosen);
    }

    /** The first end-of-text position of row r. */
    static int endOfText(long[] tokens, int row, int length) {
        for (int j = 0; j < length; j++) if (tokens[row * length + j] == PretrainVocabulary.SEP) return j;
        throw new IllegalArgumentException("token row " + row + " has no end-of-text token");
    }
}
