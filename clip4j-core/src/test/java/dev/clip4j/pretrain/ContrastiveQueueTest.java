package dev.clip4j.pretrain;

import dev.clip4j.nn.Linear;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** ITA's loss, its queue, the momentum update and the ITM negatives. */
class ContrastiveQueueTest {
    @BeforeAll
    static void init() {
        Torch.init();
    }

    @Test
    void queueIsAFifoThatWrapsAround() {
        FeatureQueue q = new FeatureQueue(2, 5);
        float[] img = new float[14], txt = new float[14];
        for (int i = 0; i < 7; i++) {
            img[2 * i] = i + 1;
            txt[2 * i + 1] = -(i + 1);
        }
        q.push(Tensors.fromFloats(java.util.Arrays.copyOfRange(img, 0, 6), 3, 2), Tensors.fromFloats(java.util.Arrays.copyOfRange(txt, 0, 6), 3, 2));
        assertThat(q.pointer()).isEqualTo(3);
        q.push(Tensors.fromFloats(java.util.Arrays.copyOfRange(img, 6, 14), 4, 2), Tensors.fromFloats(java.util.Arrays.copyOfRange(txt, 6, 14), 4, 2));
        assertThat(q.pointer()).as("3 + 4 wraps to 2").isEqualTo(2);
        // columns: 6, 7 (wrapped), 3, 4, 5
        float[] row0 = Tensors.toFloats(q.images().select(0, 0).contiguous());
        assertThat(row0).containsExactly(6, 7, 3, 4, 5);
        float[] textRow1 = Tensors.toFloats(q.texts().select(0, 1).contiguous());
        assertThat(textRow1).containsExactly(-6, -7, -3, -4, -5);
        // a push larger than the queue keeps its newest rows, in order from the pointer
        float[] big = new float[16];
        for (int i = 0; i < 8; i++) big[2 * i] = 100 + i;
        q.push(Tensors.fromFloats(big, 8, 2), Tensors.fromFloats(big, 8, 2));
        assertThat(q.pointer()).isEqualTo((2 + 8) % 5);
        float[] after = Tensors.toFloats(q.images().select(0, 0).contiguous());
        // rows 103..107 written at columns 0..4 starting from (2 + 3) % 5 = 0
        assertThat(after).containsExactly(103, 104, 105, 106, 107);
    }

    @Test
    void momentumUpdateIsExactlyAlbefsFormula() {
        Linear online = new Linear(3, 2), twin = Momentum.twin(online);
        Tensor w0 = twin.weight().clone();
        dev.clip4j.torch.Grad.noGrad(() -> dev.clip4j.torch.Ops.add_(online.weight(), 0.5));
        double m = 0.995;
        Momentum.update(online, twin, m);
        float[] got = Tensors.toFloats(twin.weight()), before = Tensors.toFloats(w0), theta = Tensors.toFloats(online.weight());
        for (int i = 0; i < got.length; i++) {
            float expected = (float) (before[i] * (float) m) + (float) (theta[i] * (float) (1 - m));
            assertThat(got[i]).as("element %d", i).isEqualTo(expected);
        }
        assertThat(twin.weight().requires_grad()).isFalse();
    }

    /** ALBEF's ITA written out in doubles, with a queue and α = 0.4. */
    @Test
    void itaLossMatchesAHandComputation() {
        int b = 3, d = 4, q = 2;
        SplittableRandom gen = new SplittableRandom(4);
        Tensor img = unit(gen, b, d), txt = unit(gen, b, d), imgM = unit(gen, b, d), txtM = unit(gen, b, d);
        Tensor qi = unit(gen, q, d).t().contiguous(), qt = unit(gen, q, d).t().contiguous();
        double temp = 0.07, alpha = 0.4;
        Tensor t = Tensors.scalar(temp);
        double got = Tensors.item(ItaLoss.of(img, txt, imgM, txtM, qi, qt, t, alpha).loss());
        float[][] I = Tensors.toMatrix(img), T = Tensors.toMatrix(txt), IM = Tensors.toMatrix(imgM), TM = Tensors.toMatrix(txtM);
        float[][] QI = Tensors.toMatrix(qi.t().contiguous()), QT = Tensors.toMatrix(qt.t().contiguous());
        double expected = (direction(I, IM, TM, QT, temp, alpha) + direction(T, TM, IM, QI, temp, alpha)) / 2;
        assertThat(got).isCloseTo(expected, within(1e-5 * expected));
    }

    private static double direction(float[][] query, float[][] queryM, float[][] keysM, float[][] queue, double temp, double alpha) {
        int b = query.length, n = b + queue.length;
        float[][] keys = new float[n][];
        for (int j = 0; j < b; j++) keys[j] = keysM[j];
        for (int j = 0; j < queue.length; j++) keys[b + j] = queue[j];
        double total = 0;
        for (int i = 0; i < b; i++) {
            double[] s = new double[n], sm = new double[n];
            for (int j = 0; j < n; j++) {
                s[j] = dot(query[i], keys[j]) / temp;
                sm[j] = dot(queryM[i], keys[j]) / temp;
            }
            double[] pm = softmax(sm), logp = logSoftmax(s);
            double l = 0;
            for (int j = 0; j < n; j++) l -= logp[j] * (alpha * pm[j] + (1 - alpha) * (j == i ? 1 : 0));
            total += l;
        }
        return total / b;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) s += (double) a[k] * b[k];
        return s;
    }

    private static double[] softmax(double[] x) {
        double[] l = logSoftmax(x);
        for (int i = 0; i < l.length; i++) l[i] = Math.exp(l[i]);
        return l;
    }

    private static double[] logSoftmax(double[] x) {
        double max = java.util.Arrays.stream(x).max().orElseThrow(), z = 0;
        for (double v : x) z += Math.exp(v - max);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - max - Math.log(z);
        return out;
    }

    private static Tensor unit(SplittableRandom gen, int n, int d) {
        float[] v = new float[n * d];
        for (int i = 0; i < v.length; i++) v[i] = (float) gen.nextGaussian();
        return NN.l2Normalize(Tensors.fromFloats(v, n, d));
    }

    @Test
    void hardNegativesAreNeverThePositiveNorASameCaptionPair() {
        int b = 6;
        long[] tokens = new long[b * 3];
        long[][] rows = {{1, 2, 3}, {1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {7, 8, 9}, {10, 11, 12}};
        for (int i = 0; i < b; i++) System.arraycopy(rows[i], 0, tokens, i * 3, 3);
        boolean[][] same = ItmNegatives.sameCaption(tokens, b, 3);
        assertThat(same[0][1]).isTrue();
        assertThat(same[0][2]).isFalse();
        SplittableRandom gen = new SplittableRandom(9);
        float[][] sim = new float[b][b];
        for (int trial = 0; trial < 2000; trial++) {
            for (int i = 0; i < b; i++) for (int j = 0; j < b; j++) sim[i][j] = (float) (gen.nextGaussian() * 5 + (i == j ? 20 : 0));
            int[][] neg = ItmNegatives.hard(sim, sim, same, gen);
            for (int i = 0; i < b; i++) {
                for (int k = 0; k < 2; k++) {
                    assertThat(neg[k][i]).isNotEqualTo(i).isBetween(0, b - 1);
                    assertThat(same[i][neg[k][i]]).as("row %d drew a same-caption pair", i).isFalse();
                }
            }
        }
        // every row shares its caption: nothing can be a negative
        boolean[][] allSame = new boolean[2][2];
        for (boolean[] r : allSame) java.util.Arrays.fill(r, true);
        int[][] none = ItmNegatives.hard(new float[2][2], new float[2][2], allSame, gen);
        assertThat(none[0]).containsExactly(-1, -1);
    }

    @Test
    void hardNegativesFollowTheSimilaritySoftmax() {
        float[][] sim = {{0, (float) Math.log(3), 0}, {0, 0, 0}, {0, 0, 0}};
        boolean[][] same = {{true, false, false}, {false, true, false}, {false, false, true}};
        SplittableRandom gen = new SplittableRandom(1);
        int ones = 0, n = 40_000;
        for (int i = 0; i < n; i++) if (ItmNegatives.hard(sim, sim, same, gen)[0][0] == 1) ones++;
        assertThat(ones / (double) n).as("weight 3 of 3 + 1").isCloseTo(0.75, within(0.01));
    }

    @Test
    void seedShuffleReversesTheSecondHalfAndLabelsThePairs() {
        int[] order = ItmNegatives.shuffle(7);
        assertThat(order).containsExactly(0, 1, 2, 6, 5, 4, 3);
        boolean[][] same = new boolean[7][7];
        for (int i = 0; i < 7; i++) same[i][i] = true;
        assertThat(ItmNegatives.shuffleLabels(order, same)).containsExactly(1, 1, 1, 0, 0, 0, 0);
        same[3][6] = same[6][3] = true;
        assertThat(ItmNegatives.shuffleLabels(order, same)).containsExactly(1, 1, 1, 1, 0, 0, 1);
    }
}
