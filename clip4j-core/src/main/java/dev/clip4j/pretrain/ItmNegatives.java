package dev.clip4j.pretrain;

import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Which non-matching pairs image–text matching sees.
 *
 * <p>{@link #hard} is ALBEF's: for each text, a negative image drawn from the softmax of its in-batch similarities,
 * and for each image a negative text likewise, with the positive's weight set to 0. Here pairs with the same caption
 * (identical token rows: the same concept drawn by two artists, say) or the same class label get weight 0 too, since
 * they are not negatives (once ITA has learned, they would be the "hardest" and ITM's labels would contradict
 * themselves); a row with no candidate left gets no negative ({@code -1}).
 *
 * <p>{@link #shuffle} is the seed's {@code torch_shuf_video}: the first half of the batch keeps its order, the second
 * half is reversed; the label of pair i is whether it kept its own visual input. The seed applies it to the frame
 * features only, in the same forward as MLM/MFM; the objectives here move the visual mask with the features and
 * run MLM/MFM on the aligned batch, never on shuffled pairs. A shuffled pair whose two captions are identical is labelled
 * a match.
 */
public final class ItmNegatives {
    private ItmNegatives() {}

    /**
     * @param textToImage [B][B] in-batch similarities of each text to each image (any scale; softmax is taken here)
     * @param imageToText [B][B]
     * @param sameCaption [B][B] true where two examples share a caption (the diagonal included)
     * @return {@code [0]}: the negative image of each text, {@code [1]}: the negative text of each image (-1: none)
     */
    public static int[][] hard(float[][] textToImage, float[][] imageToText, boolean[][] sameCaption, SplittableRandom random) {
        return new int[][] {draw(textToImage, sameCaption, random), draw(imageToText, sameCaption, random)};
    }

    private static int[] draw(float[][] similarities, boolean[][] excluded, SplittableRandom random) {
        int b = similarities.length;
        int[] out = new int[b];
        for (int i = 0; i < b; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < b; j++) if (!excluded[i][j]) max = Math.max(max, similarities[i][j]);
            if (max == Double.NEGATIVE_INFINITY) {
                out[i] = -1;
                continue;
            }
            double[] w = new double[b];
            double total = 0;
            for (int j = 0; j < b; j++) {
                w[j] = excluded[i][j] ? 0 : Math.exp(similarities[i][j] - max);
                total += w[j];
            }
            double u = random.nextDouble() * total, acc = 0;
            int pick = -1;
            for (int j = 0; j < b; j++) {
                if (w[j] == 0) continue;
                acc += w[j];
                pick = j;
                if (u < acc) break;
            }
            out[i] = pick;
        }
        return out;
    }

    /** The seed's order: {@code 0 .. B/2-1, then B-1 down to B/2}. */
    public static int[] shuffle(int b) {
        int[] order = new int[b];
        int half = b / 2;
        for (int i = 0; i < half; i++) order[i] = i;
        for (int i = half; i < b; i++) order[i] = b - 1 - (i - half);
        return order;
    }

    /** Pair i (visual input {@code order[i]}, text i) is a match when it kept its own input or the captions are equal. */
    public static long[] shuffleLabels(int[] order, boolean[][] sameCaption) {
        long[] labels = new long[order.length];
        for (int i = 0; i < order.length; i++) labels[i] = order[i] == i || sameCaption[i][order[i]] ? 1 : 0;
        return labels;
    }

    /**
     * The pairs one ITM pass classifies: pair k is text {@code text[k]} with visual input {@code visual[k]}, matched when
     * {@code labels[k]} is 1. {@link #select} picks rows of per-example tensors for them, so a visual input's
     * validity mask always travels with its features (the seed's second ITM bug) and a text with its padding.
     */
    public record Pairs(int[] text, int[] visual, long[] labels) {
        public int size() {
            return labels.length;
        }

        /** Rows {@code text[k]} of a per-example tensor [B, …] (token states, their padding). */
        public Tensor selectText(Tensor perExample) {
            return perExample.index_select(0, index(text));
        }

        /** Rows {@code visual[k]} of a per-example tensor [B, …] (image tokens or frames, their mask). */
        public Tensor selectVisual(Tensor perExample) {
            return perExample.index_select(0, index(visual));
        }

        public Tensor labelTensor() {
            return Tensors.fromLongs(labels, labels.length);
        }

        private static Tensor index(int[] rows) {
            long[] l = new long[rows.length];
            for (int i = 0; i < rows.length; i++) l[i] = rows[i];
            return Tensors.fromLongs(l, l.length);
        }
    }

    /** ALBEF's pairs: the B positives, then each text with its negative image, then each image with its negative text. */
    public static Pairs hardPairs(float[][] textToImage, float[][] imageToText, boolean[][] sameCaption, SplittableRandom random) {
        int n = textToImage.length;
        int[][] neg = hard(textToImage, imageToText, sameCaption, random);
        java.util.List<int[]> pairs = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) pairs.add(new int[] {i, i, 1});
        for (int i = 0; i < n; i++) if (neg[0][i] >= 0) pairs.add(new int[] {i, neg[0][i], 0});
        for (int i = 0; i < n; i++) if (neg[1][i] >= 0) pairs.add(new int[] {neg[1][i], i, 0});
        return new Pairs(pairs.stream().mapToInt(x -> x[0]).toArray(), pairs.stream().mapToInt(x -> x[1]).toArray(),
                pairs.stream().mapToLong(x -> x[2]).toArray());
    }

    /** The seed's pairs: text i with visual input {@code shuffle(B)[i]}. */
    public static Pairs shufflePairs(int n, boolean[][] sameCaption) {
        int[] order = shuffle(n);
        return new Pairs(java.util.stream.IntStream.range(0, n).toArray(), order, shuffleLabels(order, sameCaption));
    }

    /** Which token rows are identical ([B][B], reflexive). */
    public static boolean[][] sameCaption(long[] tokens, int rows, int length) {
        return sameCaption(tokens, null, rows, length);
    }

    /**
     * Which pairs are not negatives ([B][B], reflexive): identical token rows, or the same class label where the data
     * has labels ({@code labels[i] ≥ 0}; class-labelled data captions one class with several prompts).
     */
    public static boolean[][] sameCaption(long[] tokens, int[] labels, int rows, int length) {
        boolean[][] same = new boolean[rows][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < rows; j++) {
                boolean sameLabel = labels != null && labels[i] >= 0 && labels[i] == labels[j];
                same[i][j] = sameLabel || Arrays.equals(tokens, i * length, (i + 1) * length, tokens, j * length, (j + 1) * length);
            }
        }
        return same;
    }
}
