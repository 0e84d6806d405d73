package dev.clip4j.eval;

import dev.clip4j.data.BatchLoader;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.FeatureEncoder;
import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.List;

/** Normalised image and text features of whole datasets, batch by batch, for evaluation, on either backend. */
public final class FeatureExtractor {
    private FeatureExtractor() {}

    /** Normalised image features of every example (in dataset order), and the labels via {@code labelsOut}. */
    public static float[][] images(FeatureEncoder model, ImageTextDataset data, int batchSize, int[] labelsOut) {
        float[][] out = new float[data.size()][];
        int res = model.imageResolution();
        // the evaluation loader keeps the last, smaller batch and tokenizes nothing
        try (BatchLoader loader = BatchLoader.evaluation(data, batchSize, res, model.contextLength(), false)) {
            int at = 0;
            for (BatchLoader.Batch b; (b = loader.next()) != null; at += b.size()) {
                dev.clip4j.io.StopSignal.check();
                addImages(model, b, out, labelsOut, at, res);
            }
        }
        return out;
    }

    /**
     * The same through another image transform (augmented views, e.g. Tip-Adapter's cache), each sample's random
     * draws seeded from {@code seed} and its index; every example in dataset order, the last batch kept.
     */
    public static float[][] images(FeatureEncoder model, ImageTextDataset data, int batchSize, int[] labelsOut,
                                   dev.clip4j.image.ImageTransform transform, long seed) {
        float[][] out = new float[data.size()][];
        int res = model.imageResolution();
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        try (BatchLoader loader = new BatchLoader(data, order, 0, batchSize, transform, null,
                new dev.clip4j.data.Collator(res, model.contextLength()), seed, 1, 2, true, null)) {
            int at = 0;
            for (BatchLoader.Batch b; (b = loader.next()) != null; at += b.size()) {
                dev.clip4j.io.StopSignal.check();
                addImages(model, b, out, labelsOut, at, res);
            }
        }
        return out;
    }

    private static void addImages(FeatureEncoder model, BatchLoader.Batch b, float[][] out, int[] labels, int at, int res) {
        try (Scope s = Scope.open()) {
            Tensor x = Tensors.fromFloats(b.images(), b.size(), 3, res, res);
            float[][] f = Tensors.toMatrix(Grad.noGrad(() -> NN.l2Normalize(Tensors.to(model.encodeImage(x), dev.clip4j.torch.DType.F32))));
            for (int i = 0; i < b.size(); i++) {
                out[at + i] = f[i];
                if (labels != null) labels[at + i] = b.labels()[i];
            }
        }
    }

    /** Normalised text features of the given texts. */
    public static float[][] texts(FeatureEncoder model, List<String> texts, int batchSize) {
        ClipTokenizer tok = ClipTokenizer.getDefault();
        float[][] out = new float[texts.size()][];
        int ctx = model.contextLength();
        for (int start = 0; start < texts.size(); start += batchSize) {
            dev.clip4j.io.StopSignal.check();
            int len = Math.min(batchSize, texts.size() - start);
            long[][] rows = tok.tokenize(texts.subList(start, start + len), ctx, true);
            try (Scope s = Scope.open()) {
                Tensor t = Tensors.fromRows(rows);
                float[][] f = Tensors.toMatrix(Grad.noGrad(() -> NN.l2Normalize(Tensors.to(model.encodeText(t), dev.clip4j.torch.DType.F32))));
                System.arraycopy(f, 0, out, start, len);
            }
        }
        return out;
    }

    static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** {@code v / |v|} (a zero vector stays zero). */
    public static float[] normalize(float[] v) {
        double n = 0;
        for (float x : v) n += x * x;
        float inv = (float) (1 / Math.sqrt(Math.max(n, 1e-24)));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] * inv;
        return out;
    }
}
