package dev.clip4j.train;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The explicit-mask loss: a hand computation, InfoNCE as its special case, finite differences, micro-batches. */
class MultiPositiveLossTest {
    static final double[][] L = {{2.0, 1.5, -0.5}, {0.3, 1.0, 0.8}, {-1.0, 0.4, 2.5}};
    static final int[] LABELS = {0, 0, 1}; // examples 0 and 1 share a class

    static Tensor logits64(double[][] l) {
        float[] flat = new float[9];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) flat[i * 3 + j] = (float) l[i][j];
        return Tensors.to(Tensors.fromFloats(flat, 3, 3), DType.F64);
    }

    static double loss(Tensor perImage) {
        MultiPositiveLoss.Mask m = MultiPositiveLoss.mask(LABELS, null, 3, 0);
        return Tensors.to(MultiPositiveLoss.of(new dev.clip4j.model.ClipModel.Logits(perImage, perImage.t()), m.tensor(),
                m.diagonalOnly()), DType.F64).item_double();
    }

    /** -log(Σ_pos exp / Σ_all exp) per row, both directions, by hand in double. */
    static double byHand(double[][] l) {
        double total = 0;
        for (int dir = 0; dir < 2; dir++) {
            double sum = 0;
            for (int i = 0; i < 3; i++) {
                double pos = 0, all = 0;
                for (int j = 0; j < 3; j++) {
                    double v = dir == 0 ? l[i][j] : l[j][i];
                    all += Math.exp(v);
                    if (LABELS[i] == LABELS[j]) pos += Math.exp(v);
                }
                sum += -Math.log(pos / all);
            }
            total += sum / 3;
        }
        return total / 2;
    }

    @Test
    void matchesAHandComputationWithTwoPositivesInARow() {
        assertThat(MultiPositiveLoss.mask(LABELS, null, 3, 0).diagonalOnly()).isFalse();
        double[][] asFloat = copy(L); // the tensor holds the float32 roundings of L, computed on in float64
        for (double[] row : asFloat) for (int j = 0; j < row.length; j++) row[j] = (float) row[j];
        assertThat(loss(logits64(L))).isCloseTo(byHand(asFloat), within(1e-12));
    }

    @Test
    void gradientsMatchFiniteDifferencesInFloat64() {
        Tensor x = logits64(L).requires_grad_(true);
        MultiPositiveLoss.Mask m = MultiPositiveLoss.mask(LABELS, null, 3, 0);
        MultiPositiveLoss.of(new ClipModel.Logits(x, x.t()), m.tensor(), false).backward();
        double[] g = new double[9];
        Tensor gx = Tensors.to(x.grad(), DType.F64);
        for (int k = 0; k < 9; k++) g[k] = gx.view(-1).select(0, k).item_double();
        double h = 1e-6;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double[][] up = copy(L), down = copy(L);
                up[i][j] += h;
                down[i][j] -= h;
                double numeric = (byHand(up) - byHand(down)) / (2 * h);
                assertThat(g[i * 3 + j]).as("d loss / d l[%d][%d]", i, j).isCloseTo(numeric, within(1e-7));
            }
        }
    }

    /** With only the diagonal positive it is InfoNCE, bit for bit; and the general formula agrees to float32 rounding. */
    @Test
    void distinctLabelsGiveInfoNceExactly() {
        int[] distinct = {0, 1, 2};
        MultiPositiveLoss.Mask m = MultiPositiveLoss.mask(distinct, null, 3, 0);
        assertThat(m.diagonalOnly()).isTrue();
        Tensor x = Tensors.to(logits64(L), DType.F32);
        ClipModel.Logits logits = new ClipModel.Logits(x, x.t());
        float infonce = Tensors.item(ContrastiveLoss.of(logits));
        assertThat(Tensors.item(MultiPositiveLoss.of(logits, m.tensor(), m.diagonalOnly()))).isEqualTo(infonce);
        float general = Tensors.item(MultiPositiveLoss.of(logits, m.tensor(), false));
        assertThat((double) general).isCloseTo(infonce, within(1e-6 * Math.abs(infonce)));
    }

    @Test
    void captionDataUsesIdenticalTokenRows() {
        long[] tokens = {1, 5, 2, 0, 1, 5, 2, 0, 1, 6, 2, 0}; // rows 0 and 1 are the same caption
        MultiPositiveLoss.Mask m = MultiPositiveLoss.mask(new int[] {-1, -1, -1}, tokens, 3, 4);
        assertThat(m.values()).containsExactly(1, 1, 0, 1, 1, 0, 0, 0, 1);
    }

    /** Gradient caching stays exact for this loss: micro-batches of 2 give the full batch's loss and gradients. */
    @Test
    void microBatchesGiveFullBatchGradients() {
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        Tensor images = in.get("images").narrow(0, 0, 4), text = in.get("text").narrow(0, 0, 4);
        int[] labels = {0, 1, 0, 1};
        MultiPositiveLoss.Mask m = MultiPositiveLoss.mask(labels, null, 4, 0);
        Tensor positives = m.tensor();
        ClipModel full = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        ClipModel micro = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        ContrastiveStep.FeatureLoss loss = f -> MultiPositiveLoss.of(f.logits(), positives, false);
        double a = ContrastiveStep.run(full, images, text, 0, false, loss);
        double b = ContrastiveStep.run(micro, images, text, 2, false, loss);
        assertThat(b).isCloseTo(a, within(1e-6 * Math.abs(a)));
        full.parameters().forEach((name, p) -> Parity.assertClose("micro-batch grad " + name, micro.parameters().get(name).grad(), p.grad(), 1e-5));
        assertThat(a).isNotCloseTo(ContrastiveStep.run(ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true),
                images, text, 0, false), within(1e-3));
    }

    private static double[][] copy(double[][] l) {
        double[][] c = new double[l.length][];
        for (int i = 0; i < l.length; i++) c[i] = l[i].clone();
        return c;
    }
}
