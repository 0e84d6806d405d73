package dev.clip4j.eval;

import dev.clip4j.torch.Ops;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.AdamW;
import org.bytedeco.pytorch.Tensor;

/**
 * The linear probe of the CLIP paper: multinomial logistic regression (L2-regularised) on frozen, normalised image
 * features of the training split, scored on the test split — the reference upper bound for zero-shot.
 */
public final class LinearProbe {
    private LinearProbe() {}

    public record Result(String train, String test, double top1, int classes) {}

    public static Result evaluate(ClipModel model, ImageTextDataset train, ImageTextDataset test, int epochs, double l2) {
        int k = train.classNames().size();
        if (k < 2) throw new IllegalArgumentException(train.name() + " has no class labels; a linear probe needs them");
        int[] ytr = new int[train.size()], yte = new int[test.size()];
        float[][] xtr = FeatureExtractor.images(model, train, 256, ytr), xte = FeatureExtractor.images(model, test, 256, yte);
        Fit fit = fit(xtr, ytr, k, epochs, l2);
        int correct = 0;
        long[] p = fit.predict(xte);
        for (int i = 0; i < p.length; i++) if (p[i] == yte[i]) correct++;
        return new Result(train.name(), test.name(), (double) correct / p.length, k);
    }

    /** A fitted probe: logits {@code x Wᵀ + b} on normalised features. */
    public record Fit(float[][] weight, float[] bias) {
        public long[] predict(float[][] x) {
            try (Scope s = Scope.open()) {
                return Tensors.toLongs(Grad.noGrad(() -> NN.argmax(NN.linear(Tensors.fromRows(x), Tensors.fromRows(weight),
                        Tensors.fromFloats(bias, bias.length)), 1)));
            }
        }
    }

    /** Full-batch AdamW (lr 0.01) on cross-entropy + {@code l2}·|W|², from zeros: deterministic for the same data. */
    public static Fit fit(float[][] xtr, int[] ytr, int k, int epochs, double l2) {
        int d = xtr[0].length;
        try (Scope s = Scope.open()) {
            Tensor w = Tensors.zeros(DType.F32, k, d).requires_grad_(true);
            Tensor b = Tensors.zeros(DType.F32, k).requires_grad_(true);
            AdamW opt = new AdamW(0.01, 0.9, 0.999, 1e-8).add("w", w, 0).add("b", b, 0);
            Tensor x = Tensors.fromRows(xtr), y = labels(ytr);
            for (int e = 0; e < epochs; e++) {
                dev.clip4j.io.StopSignal.check();
                try (Scope step = Scope.open()) {
                    opt.zeroGrad();
                    Tensor loss = NN.crossEntropy(NN.linear(x, w, b), y).add(Ops.mul(w.mul(w).sum(), l2));
                    loss.backward();
                    opt.step();
                }
            }
            return new Fit(Tensors.toMatrix(w.detach()), Tensors.toFloats(b.detach()));
        }
    }

    private static Tensor labels(int[] y) {
        long[] l = new long[y.length];
        for (int i = 0; i < y.length; i++) l[i] = y[i];
        return Tensors.fromLongs(l, y.length);
    }

}
