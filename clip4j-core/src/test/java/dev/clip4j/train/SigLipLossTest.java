package dev.clip4j.train;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** SigLIP's loss: a hand computation of the label matrix, finite differences, micro-batches, resume with its bias. */
class SigLipLossTest {
    @TempDir
    Path tmp;

    static final double[][] S = {{3.0, -1.0, 0.5}, {0.2, 2.5, -2.0}, {1.0, 0.0, 4.0}};
    static final double BIAS = -1.5;

    static Tensor f64(double[][] m) {
        float[] flat = new float[9];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) flat[i * 3 + j] = (float) m[i][j];
        return Tensors.to(Tensors.fromFloats(flat, 3, 3), DType.F64);
    }

    /** −Σ log σ(z_ij (s_ij + b)) / N with z = +1 on the diagonal, −1 elsewhere. */
    static double byHand(double[][] s, double b) {
        double sum = 0;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double z = i == j ? 1 : -1, x = z * (s[i][j] + b);
                sum += Math.log(1 / (1 + Math.exp(-x)));
            }
        }
        return -sum / 3;
    }

    static double[][] rounded(double[][] m) {
        double[][] r = new double[3][3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) r[i][j] = (float) m[i][j];
        return r;
    }

    @Test
    void matchesAHandComputation() {
        Tensor bias = Tensors.to(Tensors.scalar(BIAS), DType.F64);
        double loss = Tensors.to(SigLipLoss.ofScaledCosines(f64(S), bias), DType.F64).item_double();
        assertThat(loss).isCloseTo(byHand(rounded(S), BIAS), within(1e-12));
    }

    @Test
    void gradientsMatchFiniteDifferencesInFloat64() {
        Tensor x = f64(S).requires_grad_(true), b = Tensors.to(Tensors.scalar(BIAS), DType.F64).requires_grad_(true);
        SigLipLoss.ofScaledCosines(x, b).backward();
        Tensor gx = Tensors.to(x.grad(), DType.F64);
        double[][] base = rounded(S);
        double h = 1e-6;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double[][] up = copy(base), down = copy(base);
                up[i][j] += h;
                down[i][j] -= h;
                double numeric = (byHand(up, BIAS) - byHand(down, BIAS)) / (2 * h);
                assertThat(gx.view(-1).select(0, i * 3 + j).item_double()).as("d/d s[%d][%d]", i, j).isCloseTo(numeric, within(1e-7));
            }
        }
        double numericBias = (byHand(base, BIAS + h) - byHand(base, BIAS - h)) / (2 * h);
        assertThat(Tensors.to(b.grad(), DType.F64).item_double()).isCloseTo(numericBias, within(1e-7));
    }

    @Test
    void microBatchesGiveFullBatchGradients() {
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        Tensor images = in.get("images").narrow(0, 0, 4), text = in.get("text").narrow(0, 0, 4);
        ClipModel full = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        ClipModel micro = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        Tensor b1 = Tensors.scalar(-2).requires_grad_(true), b2 = Tensors.scalar(-2).requires_grad_(true);
        double a = ContrastiveStep.run(full, images, text, 0, false, f -> SigLipLoss.of(f, b1));
        double m = ContrastiveStep.run(micro, images, text, 2, false, f -> SigLipLoss.of(f, b2));
        assertThat(m).isCloseTo(a, within(1e-6 * Math.abs(a)));
        Parity.assertClose("bias grad", b2.grad(), b1.grad(), 1e-5);
        full.parameters().forEach((name, p) -> Parity.assertClose("micro-batch grad " + name, micro.parameters().get(name).grad(), p.grad(), 1e-5));
    }

    /** A SigLIP run starts at scale 10 and bias −10, saves the bias, and resumes bit for bit. */
    @Test
    void resumeRestoresTheBiasBitForBit() throws Exception {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1), config = TinyData.tinyConfig(tmp);
        TrainOptions o = TinyData.options(data, config, 4, 6, 0, 3).toBuilder().loss("siglip").build();
        Trainer fresh = new Trainer(o, tmp.resolve("straight"), false, quiet);
        assertThat((double) Tensors.item(fresh.model().logitScaleParameter())).isCloseTo(Math.log(10), within(1e-6));
        SigLipObjective straight = (SigLipObjective) fresh.objective();
        assertThat(Tensors.item(straight.logitBias())).isEqualTo(-10f);
        fresh.run();
        new Trainer(o, tmp.resolve("resumed"), false, quiet).runUntil(7);
        Trainer resumed = Trainer.resume(tmp.resolve("resumed"), null, quiet);
        resumed.run();
        float a = Tensors.item(straight.logitBias()), b = Tensors.item(((SigLipObjective) resumed.objective()).logitBias());
        assertThat(Float.floatToRawIntBits(b)).isEqualTo(Float.floatToRawIntBits(a));
        assertThat(a).as("the bias trained").isNotEqualTo(-10f);
        RunSafetyTest.assertSameWeights(tmp.resolve("straight"), tmp.resolve("resumed"));
    }

    private static double[][] copy(double[][] l) {
        double[][] c = new double[l.length][];
        for (int i = 0; i < l.length; i++) c[i] = l[i].clone();
        return c;
    }
}
