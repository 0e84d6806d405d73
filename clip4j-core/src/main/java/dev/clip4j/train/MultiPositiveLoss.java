package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * The contrastive loss with an explicit positive mask (the seed's {@code matrix_diag} generalised to labels, UniCL's
 * form): every pair with the same class label (or, for caption data, the same caption) is a positive. For each row,
 * {@code -log(Σ_pos exp(l_ij) / Σ_all exp(l_ij))} = {@code logsumexp_all - logsumexp_pos}; the mean over rows,
 * averaged over the image→text and text→image directions. With all-distinct positives (only the diagonal) it is
 * CLIP's InfoNCE, and is then computed by {@link ContrastiveLoss} itself, so the two agree bit for bit.
 *
 * <p>The seed's code divides by the negatives only ({@code masked_fill(pos_mask, 0)} in the denominator); this
 * follows the formula, whose denominator includes the positives as InfoNCE's does.
 */
public final class MultiPositiveLoss {
    private MultiPositiveLoss() {}

    /** {@code positives}: [N, N] with 1 where row i and column j are a positive pair (the diagonal always is). */
    public static Tensor of(ClipModel.Logits logits, Tensor positives, boolean diagonalOnly) {
        if (diagonalOnly) return ContrastiveLoss.of(logits);
        Tensor perImage = logits.perImage(), perText = logits.perText();
        Tensor imageRows = NN.logsumexp(perImage, 1).sub(NN.logsumexp(NN.keepOrNegativeInfinity(perImage, positives), 1));
        Tensor textRows = NN.logsumexp(perText, 1).sub(NN.logsumexp(NN.keepOrNegativeInfinity(perText, positives.t()), 1));
        return Ops.div(imageRows.mean().add(textRows.mean()), 2.0);
    }

    /**
     * The positive mask of a batch: same label when every example has one (≥ 0), otherwise identical token rows
     * (the same caption after CLIP's cleaning and truncation). Returns [N, N] of 0/1 longs, and whether it is only the
     * diagonal.
     */
    public static Mask mask(int[] labels, long[] tokens, int n, int textLength) {
        long[] m = new long[n * n];
        boolean labelled = labels != null && labels.length == n;
        for (int i = 0; labelled && i < n; i++) labelled = labels[i] >= 0;
        boolean diagonalOnly = true;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                boolean pos = i == j || (labelled ? labels[i] == labels[j] : sameRow(tokens, i, j, textLength));
                m[i * n + j] = pos ? 1 : 0;
                if (pos && i != j) diagonalOnly = false;
            }
        }
        return new Mask(m, n, diagonalOnly);
    }

    private static boolean sameRow(long[] tokens, int i, int j, int len) {
        for (int k = 0; k < len; k++) if (tokens[i * len + k] != tokens[j * len + k]) return false;
        return true;
    }

    /** A positive mask as flat 0/1 longs, [n, n]. */
    public record Mask(long[] values, int n, boolean diagonalOnly) {
        public Tensor tensor() {
            return Tensors.fromLongs(values, n, n);
        }
    }
}
