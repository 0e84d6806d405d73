package dev.clip4j.pretrain;

import dev.clip4j.torch.Tensors;
import dev.clip4j.train.TrainBatch;
import org.bytedeco.pytorch.Tensor;

import java.util.SplittableRandom;

/**
 * What pretraining objectives share about a step: the seeded generator each step draws its masks and negatives from
 * (a function of the run's seed and the step, so a resumed run draws the same), the ramp of the distillation weight,
 * and the trimming of token rows to the batch's longest caption.
 */
public final class PretrainSteps {
    private PretrainSteps() {}

    /**
     * A batch's text as a pretraining step uses it: the ids trimmed to {@link #usedLength} columns ({@code rows × length},
     * also as a tensor), the step's generator, and which pairs share a caption or a class label.
     */
    public record Text(long[] ids, int rows, int length, Tensor tokens, SplittableRandom random, boolean[][] sameCaption) {}

    public static Text text(TrainBatch batch, long seed, long step) {
        int n = batch.size(), full = (int) batch.tokens().size(1);
        long[] all = Tensors.toLongs(batch.tokens());
        int len = usedLength(all, n, full);
        long[] ids = trim(all, n, full, len);
        return new Text(ids, n, len, Tensors.fromLongs(ids, n, len), random(seed, step),
                ItmNegatives.sameCaption(ids, batch.labels(), n, len));
    }

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
