package dev.clip4j.pretrain;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** MLM's and MFM's corruption: rates, what is never chosen, labels; MFM's NCE against a hand computation. */
class MaskingTest {
    /** Rows of [CLS] w1 .. wk [SEP] 0 0 …, k from 3 to 20, over 20,000 rows (≥ 100k ordinary tokens). */
    @Test
    void mlmChoosesFifteenPercentAndSplitsThem80_10_10NeverSpecialOrPadding() {
        int rows = 20_000, len = 24;
        SplittableRandom gen = new SplittableRandom(7);
        long[] tokens = new long[rows * len];
        long ordinary = 0;
        for (int r = 0; r < rows; r++) {
            int k = 3 + gen.nextInt(18);
            tokens[r * len] = PretrainVocabulary.CLS;
            for (int j = 1; j <= k; j++) tokens[r * len + j] = 1 + gen.nextInt(49_000);
            tokens[r * len + k + 1] = PretrainVocabulary.SEP;
            ordinary += k;
        }
        assertThat(ordinary).isGreaterThan(100_000);
        MlmMasking.Masked m = MlmMasking.mask(tokens, rows, len, 0.15, new SplittableRandom(1));
        long masks = 0, random = 0, kept = 0, chosen = 0;
        for (int i = 0; i < tokens.length; i++) {
            boolean special = tokens[i] == PretrainVocabulary.CLS || tokens[i] == PretrainVocabulary.SEP;
            boolean padding = afterSep(tokens, i, len);
            if (m.labels()[i] == MlmMasking.IGNORE) {
                assertThat(m.inputs()[i]).as("unchosen position %d unchanged", i).isEqualTo(tokens[i]);
                continue;
            }
            assertThat(special || padding).as("position %d chosen but special or padding", i).isFalse();
            assertThat(m.labels()[i]).isEqualTo(tokens[i]);
            chosen++;
            if (m.inputs()[i] == PretrainVocabulary.MASK) masks++;
            else if (m.inputs()[i] == tokens[i]) kept++;
            else {
                random++;
                assertThat(m.inputs()[i]).isBetween(0L, (long) PretrainVocabulary.ORDINARY - 1);
            }
        }
        assertThat(chosen).isEqualTo(m.chosen());
        assertThat(chosen / (double) ordinary).isCloseTo(0.15, within(0.005));
        assertThat(masks / (double) chosen).isCloseTo(0.80, within(0.01));
        assertThat(random / (double) chosen).isCloseTo(0.10, within(0.01));
        assertThat(kept / (double) chosen).isCloseTo(0.10, within(0.01));
    }

    private static boolean afterSep(long[] tokens, int i, int len) {
        int r = i / len;
        for (int j = r * len; j < i; j++) if (tokens[j] == PretrainVocabulary.SEP) return true;
        return false;
    }

    @Test
    void mlmIsReproducibleFromItsSeed() {
        long[] t = {PretrainVocabulary.CLS, 5, 6, 7, 8, 9, PretrainVocabulary.SEP, 0};
        MlmMasking.Masked a = MlmMasking.mask(t, 1, 8, 0.5, new SplittableRandom(3));
        MlmMasking.Masked b = MlmMasking.mask(t, 1, 8, 0.5, new SplittableRandom(3));
        assertThat(a.inputs()).containsExactly(b.inputs());
        assertThat(a.labels()).containsExactly(b.labels());
    }

    @Test
    void mfmChoosesOnlyValidFramesAtNinetyPercentOfP() {
        int rows = 4000, frames = 32;
        boolean[] valid = new boolean[rows * frames];
        SplittableRandom gen = new SplittableRandom(2);
        long validCount = 0;
        for (int r = 0; r < rows; r++) {
            int n = 1 + gen.nextInt(frames);
            for (int t = 0; t < n; t++) valid[r * frames + t] = true;
            validCount += n;
        }
        MfmMasking.Masked m = MfmMasking.mask(valid, rows, frames, 0.15, new SplittableRandom(5));
        for (int i = 0; i < valid.length; i++) {
            if (m.chosen()[i]) {
                assertThat(valid[i]).as("frame %d chosen but invalid", i).isTrue();
                assertThat(m.labels()[i]).isEqualTo(i);
            } else {
                assertThat(m.labels()[i]).isEqualTo(MlmMasking.IGNORE);
            }
        }
        assertThat(m.count() / (double) validCount).isCloseTo(0.9 * 0.15, within(0.005));
    }

    /** The seed's calculate_mfm_loss written out in doubles: invalid frames never positives nor candidates. */
    @Test
    void mfmLossMatchesAHandComputation() {
        Torch.init();
        int b = 2, t = 3, d = 4;
        SplittableRandom gen = new SplittableRandom(11);
        float[] out = new float[b * t * d], in = new float[b * t * d];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) gen.nextGaussian();
            in[i] = (float) gen.nextGaussian();
        }
        float[] valid = {1, 1, 0, 1, 1, 1};
        boolean[] chosen = {true, false, false, false, true, true};
        Tensor loss = MfmLoss.of(Tensors.fromFloats(out, b, t, d), Tensors.fromFloats(in, b, t, d),
                Tensors.fromFloats(valid, b, t), Tensors.to(Tensors.fromFloats(new float[] {1, 0, 0, 0, 1, 1}, b, t), DType.BOOL),
                false, 0.1);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < b * t; i++) {
            if (!chosen[i]) continue;
            double[] logits = new double[b * t];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < b * t; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += (double) out[i * d + k] * in[j * d + k];
                logits[j] = s + (1 - valid[i] * valid[j]) * -1e8;
                max = Math.max(max, logits[j]);
            }
            double z = 0;
            for (double l : logits) z += Math.exp(l - max);
            sum += -(logits[i] - max - Math.log(z));
            count++;
        }
        double expected = sum / count;
        // float32 dot products of 4 terms and a log-softmax over 6: a few ulps of values of order 1
        assertThat((double) Tensors.item(loss)).isCloseTo(expected, within(1e-5 * Math.max(1, Math.abs(expected))));
    }
}
