package dev.clip4j.adapt;

import dev.clip4j.eval.FeatureExtractor;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.image.RandomResizedCrop;
import dev.clip4j.io.StopSignal;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.AdamW;
import org.bytedeco.pytorch.Tensor;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tip-Adapter (Zhang et al., 2022), training-free: a cache whose keys are the few-shot images' normalised features
 * (averaged over augmented views: random resized crop, scale 0.5–1, and horizontal flip, as the paper) and whose values
 * are their one-hot labels. With CLIP's zero-shot classifier W (prompt-ensembled class embeddings):
 * <pre>  logits = s · f Wᵀ + α · exp(−β (1 − f Kᵀ)) V      (s = exp(logit_scale): 100 for OpenAI's models)</pre>
 * α and β are searched on the {@link ValidationSplit} of the training shots (the official code's grid: β over 200
 * steps in [0.1, 7], α over 20 in [0.1, 3]), the cache then holding the other shots; with one shot per class the
 * paper's α = 1, β = 5.5 are used. <b>Tip-Adapter-F</b> makes the keys a parameter, initialised from the cache, and
 * trains them with AdamW (lr 1e-3, eps 1e-4, PyTorch's default weight decay 0.01, cosine over all steps, batch 256)
 * on the augmented views for 20 epochs, with the α and β the search found.
 */
public final class TipAdapter {
    public static final double DEFAULT_ALPHA = 1, DEFAULT_BETA = 5.5;

    private TipAdapter() {}

    public record Settings(int views, boolean finetune, int epochs, double lr, long seed) {
        public static Settings paper(boolean finetune, long seed) {
            return new Settings(10, finetune, 20, 1e-3, seed);
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("augment_views", views);
            m.put("finetune", finetune);
            if (finetune) {
                m.put("epochs", epochs);
                m.put("lr", lr);
            }
            m.put("seed", seed);
            return m;
        }
    }

    /** The cache and the classifier's constants; {@code tuning} says how α and β were chosen. */
    public record Result(float[][] keys, float[][] values, float[][] clipWeights, double scale, double alpha, double beta,
                         String tuning, double validationTop1, double seconds) {}

    public static Result build(ClipModel clip, ClassSubset shots, int shotsPerClass, Settings s, PrintStream log) {
        long start = System.nanoTime();
        Result[] out = new Result[1];
        FrozenClip.run(clip, () -> {
            int n = shots.size(), k = shots.classNames().size(), res = clip.imageResolution();
            int[] labels = new int[n];
            float[][][] views = new float[s.views()][][];
            for (int v = 0; v < s.views(); v++) {
                views[v] = FeatureExtractor.images(clip, shots, 256, labels, new RandomResizedCrop(res, 0.5, true), s.seed() * 1009 + v);
            }
            float[][] plain = FeatureExtractor.images(clip, shots, 256, labels);
            float[][] keys = new float[n][];
            for (int i = 0; i < n; i++) {
                float[] mean = new float[plain[i].length];
                for (float[][] view : views) for (int j = 0; j < mean.length; j++) mean[j] += view[i][j] / views.length;
                keys[i] = FeatureExtractor.normalize(mean);
            }
            float[][] values = new float[n][k];
            for (int i = 0; i < n; i++) values[i][labels[i]] = 1;
            List<List<String>> names = shots.synonyms();
            float[][] w = ZeroShot.classEmbeddings(clip, names, shots.templates());
            double scale = Tensors.item(Grad.noGrad(clip::logitScale));
            double alpha = DEFAULT_ALPHA, beta = DEFAULT_BETA, valTop1 = Double.NaN;
            String tuning = "paper defaults (one shot per class: no validation shots to carve)";
            if (ValidationSplit.validationShots(shotsPerClass) > 0) {
                List<Integer> train = new ArrayList<>(), val = new ArrayList<>();
                for (int i = 0; i < n; i++) (ValidationSplit.validates(i, shotsPerClass) ? val : train).add(i);
                double[] best = search(pick(keys, train), pick(values, train), pick(plain, val), pickLabels(labels, val), w, scale);
                alpha = best[0];
                beta = best[1];
                valTop1 = best[2];
                tuning = "searched on " + val.size() + " validation shots (" + ValidationSplit.validationShots(shotsPerClass)
                        + " per class) against a cache of the other " + train.size();
            }
            if (log != null) log.printf("tip-adapter: alpha %.3f, beta %.3f (%s)%n", alpha, beta, tuning);
            if (s.finetune()) keys = finetune(keys, values, views, labels, w, scale, alpha, beta, s, log);
            out[0] = new Result(keys, values, w, scale, alpha, beta, tuning, valTop1, 0);
        });
        Result r = out[0];
        return new Result(r.keys(), r.values(), r.clipWeights(), r.scale(), r.alpha(), r.beta(), r.tuning(), r.validationTop1(),
                (System.nanoTime() - start) / 1e9);
    }

    /** Tip-Adapter's logits for normalised image features f [N, E]. */
    public static Tensor logits(Tensor f, Tensor clipWeights, Tensor keys, Tensor values, double scale, double alpha, double beta) {
        Tensor clipLogits = f.matmul(clipWeights.t()).mul(Tensors.scalar(scale));
        Tensor affinity = f.matmul(keys.t());
        Tensor cache = affinity.neg().add(Tensors.scalar(1)).mul(Tensors.scalar(-beta)).exp().matmul(values);
        return clipLogits.add(cache.mul(Tensors.scalar(alpha)));
    }

    /** The official grid; returns {α, β, validation top-1}, the first best (β outer, α inner, as the official loop). */
    static double[] search(float[][] keys, float[][] values, float[][] queries, long[] labels, float[][] w, double scale) {
        double[] best = {DEFAULT_ALPHA, DEFAULT_BETA, -1};
        try (Scope s = Scope.open()) {
            Tensor q = Tensors.fromRows(queries), k = Tensors.fromRows(keys), v = Tensors.fromRows(values);
            Tensor clipLogits = Grad.noGrad(() -> q.matmul(Tensors.fromRows(w).t()).mul(Tensors.scalar(scale)));
            Tensor affinity = Grad.noGrad(() -> q.matmul(k.t()));
            for (int bi = 0; bi < 200; bi++) {
                double beta = bi * (7 - 0.1) / 200 + 0.1;
                try (Scope inner = Scope.open()) {
                    Tensor cache = Grad.noGrad(() -> affinity.neg().add(Tensors.scalar(1)).mul(Tensors.scalar(-beta)).exp().matmul(v));
                    for (int ai = 0; ai < 20; ai++) {
                        double alpha = ai * (3 - 0.1) / 20 + 0.1;
                        long[] pred = Tensors.toLongs(NN.argmax(clipLogits.add(cache.mul(Tensors.scalar(alpha))), 1));
                        int correct = 0;
                        for (int i = 0; i < pred.length; i++) if (pred[i] == labels[i]) correct++;
                        double acc = (double) correct / pred.length;
                        if (acc > best[2]) best = new double[] {alpha, beta, acc};
                    }
                }
            }
        }
        return best;
    }

    private static float[][] finetune(float[][] init, float[][] values, float[][][] views, int[] labels, float[][] w, double scale,
                                      double alpha, double beta, Settings s, PrintStream log) {
        int n = init.length, batch = Math.min(256, n), perEpoch = (n + batch - 1) / batch, total = s.epochs() * perEpoch;
        Tensor keys = Scope.escape(Tensors.fromRows(init).requires_grad_(true));
        AdamW opt = new AdamW(s.lr(), 0.9, 0.999, 1e-4).add("keys", keys, 0.01);
        SplittableRandom rng = new SplittableRandom(s.seed());
        int step = 0;
        double last = Double.NaN;
        try (Scope outer = Scope.open()) {
            Tensor wt = Tensors.fromRows(w), v = Tensors.fromRows(values);
            AdaptProgress progress = new AdaptProgress(log, total);
            for (int e = 0; e < s.epochs(); e++) {
                float[][] feats = views[e % views.length];
                int[] order = CoOp.permutation(n, rng);
                double lossSum = 0;
                for (int b = 0; b < perEpoch; b++) {
                    StopSignal.check();
                    int from = b * batch, len = Math.min(batch, n - from);
                    try (Scope sc = Scope.open()) {
                        float[][] rows = new float[len][];
                        long[] y = new long[len];
                        for (int i = 0; i < len; i++) {
                            rows[i] = feats[order[from + i]];
                            y[i] = labels[order[from + i]];
                        }
                        opt.setLearningRate(0.5 * s.lr() * (1 + Math.cos(Math.PI * step / total)));
                        Tensor loss = NN.crossEntropy(logits(Tensors.fromRows(rows), wt, keys, v, scale, alpha, beta), Tensors.fromLongs(y, len));
                        loss.backward();
                        opt.step();
                        opt.zeroGrad();
                        lossSum += Tensors.item(loss) * len;
                        step++;
                        progress.step(step, e + (b + 1.0) / perEpoch, Tensors.item(loss), opt.learningRate(), len);
                    }
                }
                last = lossSum / n;
            }
            progress.end();
            if (log != null) log.printf("tip-adapter-f: %d epochs, final loss %.4f%n", s.epochs(), last);
            return Tensors.toMatrix(keys.detach());
        }
    }


    private static float[][] pick(float[][] rows, List<Integer> idx) {
        float[][] out = new float[idx.size()][];
        for (int i = 0; i < out.length; i++) out[i] = rows[idx.get(i)];
        return out;
    }

    private static long[] pickLabels(int[] labels, List<Integer> idx) {
        long[] out = new long[idx.size()];
        for (int i = 0; i < out.length; i++) out[i] = labels[idx.get(i)];
        return out;
    }

}
