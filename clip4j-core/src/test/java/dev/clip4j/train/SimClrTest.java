package dev.clip4j.train;

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
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** SimCLR's NT-Xent against a hand computation and finite differences; a run with its head and SigLIP's bias resumes bit for bit. */
class SimClrTest {
    @TempDir
    Path tmp;

    static final double[][] Z = {{1.0, 0.5}, {-0.3, 2.0}, {0.8, 0.7}, {-0.5, 1.5}}; // rows 0,1 view 1; rows 2,3 view 2

    static Tensor rows(double[][] z, int from, int n) {
        float[] flat = new float[n * 2];
        for (int i = 0; i < n; i++) for (int j = 0; j < 2; j++) flat[i * 2 + j] = (float) z[from + i][j];
        return Tensors.to(Tensors.fromFloats(flat, n, 2), DType.F64);
    }

    static double byHand(double[][] z, double tau) {
        int m = z.length, n = m / 2;
        double[][] u = new double[m][];
        for (int i = 0; i < m; i++) {
            double norm = Math.hypot(z[i][0], z[i][1]);
            u[i] = new double[] {z[i][0] / norm, z[i][1] / norm};
        }
        double total = 0;
        for (int i = 0; i < m; i++) {
            int pos = i < n ? i + n : i - n;
            double denom = 0, num = 0;
            for (int j = 0; j < m; j++) {
                if (j == i) continue;
                double e = Math.exp((u[i][0] * u[j][0] + u[i][1] * u[j][1]) / tau);
                denom += e;
                if (j == pos) num = e;
            }
            total += -Math.log(num / denom);
        }
        return total / m;
    }

    static double[][] rounded(double[][] z) {
        double[][] r = new double[z.length][2];
        for (int i = 0; i < z.length; i++) for (int j = 0; j < 2; j++) r[i][j] = (float) z[i][j];
        return r;
    }

    @Test
    void ntXentMatchesAHandComputation() {
        double loss = Tensors.to(NtXentLoss.of(rows(Z, 0, 2), rows(Z, 2, 2), 0.1), DType.F64).item_double();
        assertThat(loss).isCloseTo(byHand(rounded(Z), 0.1), within(1e-10));
    }

    @Test
    void ntXentGradientsMatchFiniteDifferencesInFloat64() {
        Tensor a = rows(Z, 0, 2).requires_grad_(true), b = rows(Z, 2, 2).requires_grad_(true);
        NtXentLoss.of(a, b, 0.5).backward();
        double[][] base = rounded(Z);
        double h = 1e-6;
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) {
                double[][] up = copy(base), down = copy(base);
                up[i][j] += h;
                down[i][j] -= h;
                double numeric = (byHand(up, 0.5) - byHand(down, 0.5)) / (2 * h);
                Tensor g = Tensors.to(i < 2 ? a.grad() : b.grad(), DType.F64);
                assertThat(g.view(-1).select(0, (i % 2) * 2 + j).item_double()).as("d/d z[%d][%d]", i, j).isCloseTo(numeric, within(1e-7));
            }
        }
    }

    @Test
    void resumeWithASimclrHeadAndASiglipBiasIsBitForBit() throws Exception {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1), config = TinyData.tinyConfig(tmp);
        TrainOptions o = TinyData.options(data, config, 4, 6, 0, 3).toBuilder().loss("siglip").simclrWeight(1).simclrHidden(16).build();
        Trainer straight = new Trainer(o, tmp.resolve("straight"), false, quiet);
        Trainer.Result r = straight.run();
        assertThat(r.lastLoss()).isFinite();
        new Trainer(o, tmp.resolve("resumed"), false, quiet).runUntil(7);
        Trainer resumed = Trainer.resume(tmp.resolve("resumed"), null, quiet);
        resumed.run();
        Map<String, dev.clip4j.nn.Module> a = straight.objective().extraModules(), b = resumed.objective().extraModules();
        assertThat(b.keySet()).containsExactlyInAnyOrder("simclr", "siglip");
        for (String name : a.keySet()) {
            a.get(name).stateDict().forEach((k, v) -> {
                Tensor w = b.get(name).stateDict().get(k);
                if (Tensors.dtype(v).isFloatingPoint()) assertThat(Tensors.toFloats(w)).as(name + "." + k).containsExactly(Tensors.toFloats(v));
                else assertThat(Tensors.toLongs(w)).as(name + "." + k).containsExactly(Tensors.toLongs(v));
            });
        }
        RunSafetyTest.assertSameWeights(tmp.resolve("straight"), tmp.resolve("resumed"));
        java.util.List<String> lines = java.nio.file.Files.readAllLines(tmp.resolve("straight/metrics.jsonl"));
        assertThat(lines.get(0)).contains("\"simclr\"").contains("\"image_text\"").contains("\"logit_bias\"");
    }

    @Test
    void simclrWithMicroBatchesIsRefused() {
        assertThatThrownBy(() -> TrainOptions.builder().data("x").epochs(1).simclrWeight(1).microBatch(8).build().validate())
                .hasMessageContaining("micro-batches");
    }

    private static double[][] copy(double[][] l) {
        double[][] c = new double[l.length][];
        for (int i = 0; i < l.length; i++) c[i] = l[i].clone();
        return c;
    }
}
