package dev.clip4j.adapt;

import dev.clip4j.eval.FeatureExtractor;
import dev.clip4j.eval.LinearProbe;
import dev.clip4j.model.ClipModel;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The linear probe as the few-shot upper reference: logistic regression on the frozen, normalised image features of
 * the shots ({@link LinearProbe#fit}, 300 full-batch AdamW steps), its L2 weight λ chosen on the
 * {@link ValidationSplit} (λ ∈ 10⁻⁶…1 by decades; among equally good λ the strongest), then refitted on all shots.
 * With one shot per class λ = 1e-4, the full-data probe's default.
 */
public final class FewShotLinearProbe {
    public static final double[] GRID = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1};
    public static final double DEFAULT_L2 = 1e-4;
    public static final int EPOCHS = 300;

    private FewShotLinearProbe() {}

    public record Result(LinearProbe.Fit fit, double l2, String tuning, double validationTop1, double seconds) {}

    public static Result train(ClipModel clip, ClassSubset shots, int shotsPerClass, PrintStream log) {
        long start = System.nanoTime();
        Result[] out = new Result[1];
        FrozenClip.run(clip, () -> {
            int n = shots.size(), k = shots.classNames().size();
            int[] labels = new int[n];
            float[][] x = FeatureExtractor.images(clip, shots, 256, labels);
            double l2 = DEFAULT_L2, valTop1 = Double.NaN;
            String tuning = "default (one shot per class: no validation shots to carve)";
            if (ValidationSplit.validationShots(shotsPerClass) > 0) {
                List<float[]> tx = new ArrayList<>(), vx = new ArrayList<>();
                List<Integer> ty = new ArrayList<>(), vy = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    boolean val = ValidationSplit.validates(i, shotsPerClass);
                    (val ? vx : tx).add(x[i]);
                    (val ? vy : ty).add(labels[i]);
                }
                float[][] trainX = tx.toArray(new float[0][]), valX = vx.toArray(new float[0][]);
                int[] trainY = ty.stream().mapToInt(Integer::intValue).toArray();
                double best = -1;
                for (double lambda : GRID) {
                    long[] pred = LinearProbe.fit(trainX, trainY, k, EPOCHS, lambda).predict(valX);
                    int correct = 0;
                    for (int i = 0; i < pred.length; i++) if (pred[i] == vy.get(i)) correct++;
                    double acc = (double) correct / pred.length;
                    if (acc >= best) { // ties: the stronger regularisation
                        best = acc;
                        l2 = lambda;
                    }
                }
                valTop1 = best;
                tuning = "lambda chosen on " + valX.length + " validation shots (" + ValidationSplit.validationShots(shotsPerClass)
                        + " per class), fitted on the other " + trainX.length + ", then refitted on all";
            }
            if (log != null) log.printf("linear-probe: l2 %.0e (%s)%n", l2, tuning);
            out[0] = new Result(LinearProbe.fit(x, labels, k, EPOCHS, l2), l2, tuning, valTop1, 0);
        });
        Result r = out[0];
        return new Result(r.fit(), r.l2(), r.tuning(), r.validationTop1(), (System.nanoTime() - start) / 1e9);
    }
}
