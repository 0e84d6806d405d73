package dev.clip4j.train;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.Scoring;
import dev.clip4j.model.TokenWiseSimilarity;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** FILIP's token-wise loss: a hand computation with padding, finite differences in float64, micro-batches. */
class FilipLossTest {
    /** Two images of three tokens, two texts of four positions, width 3. */
    static final int NI = 2, P = 3, NT = 2, L = 4, E = 3;
    /** Row 0: start, word, end, padding; row 1: start, word, word, end. Valid: {1, 2} and {1, 2, 3}. */
    static final long[] TOKENS = {49406, 320, 49407, 0, 49406, 320, 1929, 49407};
    static final boolean[][] VALID = {{false, true, true, false}, {false, true, true, true}};

    static double[] random(int n, long seed) {
        Random r = new Random(seed);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = r.nextGaussian();
        return out;
    }

    static Tensor f64(double[] v, long... shape) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return Tensors.to(Tensors.fromFloats(f, shape), DType.F64);
    }

    /** Values as the float32 tensor holds them, so the hand computation sees the same inputs. */
    static double[] rounded(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = (float) v[i];
        return r;
    }

    static double[] unit(double[] v, int at) {
        double n = 0;
        for (int k = 0; k < E; k++) n += v[at + k] * v[at + k];
        double[] u = new double[E];
        for (int k = 0; k < E; k++) u[k] = v[at + k] / Math.sqrt(n);
        return u;
    }

    static double cos(double[] img, int i, int p, double[] txt, int j, int t) {
        double[] a = unit(img, (i * P + p) * E), b = unit(txt, (j * L + t) * E);
        return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }

    /** [0]: imageToText[i][j], [1]: textToImage[i][j], straight from the definitions. */
    static double[][][] scoresByHand(double[] img, double[] txt) {
        double[][][] s = new double[2][NI][NT];
        for (int i = 0; i < NI; i++) {
            for (int j = 0; j < NT; j++) {
                double sum = 0;
                for (int p = 0; p < P; p++) {
                    double best = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t < L; t++) if (VALID[j][t]) best = Math.max(best, cos(img, i, p, txt, j, t));
                    sum += best;
                }
                s[0][i][j] = sum / P;
                sum = 0;
                int n = 0;
                for (int t = 0; t < L; t++) {
                    if (!VALID[j][t]) continue;
                    double best = Double.NEGATIVE_INFINITY;
                    for (int p = 0; p < P; p++) best = Math.max(best, cos(img, i, p, txt, j, t));
                    sum += best;
                    n++;
                }
                s[1][i][j] = sum / n;
            }
        }
        return s;
    }

    /** Symmetric InfoNCE: images rank texts by imageToText, texts rank images by textToImage. */
    static double lossByHand(double[] img, double[] txt, double scale) {
        double[][][] s = scoresByHand(img, txt);
        double rows = 0, cols = 0;
        for (int i = 0; i < NI; i++) {
            double z = 0;
            for (int j = 0; j < NT; j++) z += Math.exp(scale * s[0][i][j]);
            rows += -(scale * s[0][i][i] - Math.log(z));
        }
        for (int j = 0; j < NT; j++) {
            double z = 0;
            for (int i = 0; i < NI; i++) z += Math.exp(scale * s[1][i][j]);
            cols += -(scale * s[1][j][j] - Math.log(z));
        }
        return (rows / NI + cols / NT) / 2;
    }

    static final double[] IMG = rounded(random(NI * P * E, 1)), TXT = rounded(random(NT * L * E, 2));
    static final double SCALE = 3.5;

    static Tensor valid() {
        return TokenWiseSimilarity.textValid(Tensors.fromLongs(TOKENS, NT, L));
    }

    @Test
    void validPositionsSkipTheStartTokenAndThePadding() {
        Tensor v = Tensors.to(valid(), DType.F32);
        float[] flat = Tensors.toFloats(v);
        for (int j = 0; j < NT; j++) for (int t = 0; t < L; t++) assertThat(flat[j * L + t] == 1f).isEqualTo(VALID[j][t]);
    }

    @Test
    void scoresAndLossMatchAHandComputation() {
        TokenWiseSimilarity.Scores s = TokenWiseSimilarity.of(f64(IMG, NI, P, E), f64(TXT, NT, L, E), valid());
        double[][][] hand = scoresByHand(IMG, TXT);
        for (int i = 0; i < NI; i++) {
            for (int j = 0; j < NT; j++) {
                assertThat(s.imageToText().select(0, i).select(0, j).item_double()).isCloseTo(hand[0][i][j], within(1e-12));
                assertThat(s.textToImage().select(0, i).select(0, j).item_double()).isCloseTo(hand[1][i][j], within(1e-12));
            }
        }
        Tensor scale = Tensors.to(Tensors.scalar(SCALE), DType.F64);
        double loss = FilipLoss.of(f64(IMG, NI, P, E), f64(TXT, NT, L, E), valid(), scale).item_double();
        assertThat(loss).isCloseTo(lossByHand(IMG, TXT, SCALE), within(1e-12));
    }

    /** Whatever a padding or start position holds, the scores do not change. */
    @Test
    void paddingAndStartPositionsDoNotCount() {
        double[] changed = TXT.clone();
        for (int j = 0; j < NT; j++) for (int t = 0; t < L; t++) {
            if (VALID[j][t]) continue;
            for (int k = 0; k < E; k++) changed[(j * L + t) * E + k] = 100 * (k + 1) * (j + 1);
        }
        TokenWiseSimilarity.Scores a = TokenWiseSimilarity.of(f64(IMG, NI, P, E), f64(TXT, NT, L, E), valid());
        TokenWiseSimilarity.Scores b = TokenWiseSimilarity.of(f64(IMG, NI, P, E), f64(changed, NT, L, E), valid());
        Parity.assertBitIdentical("imageToText", Tensors.toFloats(Tensors.to(b.imageToText(), DType.F32)),
                Tensors.toFloats(Tensors.to(a.imageToText(), DType.F32)));
        Parity.assertBitIdentical("textToImage", Tensors.toFloats(Tensors.to(b.textToImage(), DType.F32)),
                Tensors.toFloats(Tensors.to(a.textToImage(), DType.F32)));
    }

    @Test
    void gradientsMatchFiniteDifferencesInFloat64() {
        Tensor img = f64(IMG, NI, P, E).requires_grad_(true), txt = f64(TXT, NT, L, E).requires_grad_(true);
        Tensor scale = Tensors.to(Tensors.scalar(SCALE), DType.F64).requires_grad_(true);
        FilipLoss.of(img, txt, valid(), scale).backward();
        double h = 1e-6;
        checkGradient(img.grad(), IMG, v -> lossByHand(v, TXT, SCALE), h, "image token");
        checkGradient(txt.grad(), TXT, v -> lossByHand(IMG, v, SCALE), h, "text token");
        double numeric = (lossByHand(IMG, TXT, SCALE + h) - lossByHand(IMG, TXT, SCALE - h)) / (2 * h);
        assertThat(scale.grad().item_double()).isCloseTo(numeric, within(1e-7));
    }

    private static void checkGradient(Tensor grad, double[] at, java.util.function.ToDoubleFunction<double[]> f, double h, String what) {
        Tensor g = Tensors.to(grad, DType.F64).reshape(-1);
        for (int k = 0; k < at.length; k++) {
            double[] up = at.clone(), down = at.clone();
            up[k] += h;
            down[k] -= h;
            double numeric = (f.applyAsDouble(up) - f.applyAsDouble(down)) / (2 * h);
            assertThat(g.select(0, k).item_double()).as("d loss / d %s[%d]", what, k).isCloseTo(numeric, within(1e-7));
        }
    }

    /** Gradient caching over token features: micro-batches of 2 give the full batch's loss and gradients. */
    @Test
    void microBatchesGiveFullBatchGradients() {
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        Tensor images = in.get("images").narrow(0, 0, 4), text = in.get("text").narrow(0, 0, 4);
        TrainBatch batch = new TrainBatch(images, text, null, null);
        ClipModel full = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        ClipModel micro = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        TrainOptions o = TrainOptions.builder().data("unused").epochs(1).loss(TrainOptions.LOSS_FILIP).build();
        double a = new FilipObjective(full, o).step(batch).get("loss");
        double b = new FilipObjective(micro, o.toBuilder().microBatch(2).build()).step(batch).get("loss");
        assertThat(full.scoring()).isEqualTo(Scoring.TOKEN_WISE);
        assertThat(b).isCloseTo(a, within(1e-6 * Math.abs(a)));
        full.parameters().forEach((name, p) -> {
            if (p.grad() == null || !p.grad().defined()) return;
            Parity.assertClose("micro-batch grad " + name, micro.parameters().get(name).grad(), p.grad(), 1e-5);
        });
        assertThat(full.parameters().get("visual.proj").grad().defined()).isTrue();
        assertThat(a).as("not the pooled loss").isNotCloseTo(ContrastiveStep.run(
                ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true), images, text, 0, false), within(1e-3));
    }
}
