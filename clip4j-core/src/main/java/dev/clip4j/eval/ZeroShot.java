package dev.clip4j.eval;

import dev.clip4j.data.ClassLabelledDataset;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.data.Prompts;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.FeatureEncoder;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Zero-shot classification as in the CLIP paper: each class is the average of the normalised text embeddings of its
 * prompts (every template with every name of the class), renormalised; an image's class is the most similar one.
 */
public final class ZeroShot {
    private ZeroShot() {}

    public static ZeroShotResult evaluate(ClipModel model, ImageTextDataset data, List<String> templates, int batchSize) {
        return evaluate(model, model, data, templates, batchSize);
    }

    /**
     * As {@link #evaluate(ClipModel, ImageTextDataset, List, int)} with the towers run by {@code towers} (the model
     * itself on libtorch, or its {@code OnnxClip} on ONNX Runtime); a model scored token-wise runs on libtorch.
     */
    public static ZeroShotResult evaluate(ClipModel model, FeatureEncoder towers, ImageTextDataset data,
                                          List<String> templates, int batchSize) {
        if (data.classNames().isEmpty()) throw new IllegalArgumentException(data.name() + " has no class labels; zero-shot needs them");
        List<List<String>> names = data instanceof ClassLabelledDataset c ? c.synonyms()
                : data.classNames().stream().map(List::of).toList();
        int[] labels = new int[data.size()];
        float[][] all = model.scoring() == dev.clip4j.model.Scoring.TOKEN_WISE
                ? tokenWiseClassScores(model, data, batchSize, labels, names, templates)
                : Similarity.scores(FeatureExtractor.images(towers, data, batchSize, labels), classEmbeddings(towers, names, templates));
        return summarize(data.name(), all, labels, data.classNames());
    }

    /** Top-1, top-5, per-class accuracy and the confusion matrix of class scores [examples][classes]. */
    public static ZeroShotResult summarize(String dataset, float[][] all, int[] labels, List<String> classNames) {
        int k = classNames.size();
        int[][] confusion = new int[k][k];
        int top1 = 0, top5 = 0;
        for (int i = 0; i < all.length; i++) {
            float[] scores = all[i];
            int best = 0, rankOfTrue = 0;
            for (int c = 0; c < k; c++) {
                if (scores[c] > scores[best]) best = c;
                if (scores[c] > scores[labels[i]]) rankOfTrue++;
            }
            confusion[labels[i]][best]++;
            if (best == labels[i]) top1++;
            if (rankOfTrue < 5) top5++;
        }
        double[] perClass = new double[k];
        for (int c = 0; c < k; c++) {
            int total = 0;
            for (int p = 0; p < k; p++) total += confusion[c][p];
            perClass[c] = total == 0 ? Double.NaN : (double) confusion[c][c] / total;
        }
        int n = all.length;
        return new ZeroShotResult(dataset, n, (double) top1 / n, (double) top5 / n, 1.0 / k, classNames, perClass, confusion);
    }

    /**
     * For a token-wise model ({@link dev.clip4j.model.Scoring#TOKEN_WISE}) there is no single class vector to average:
     * each prompt is scored against the image ({@code imageToText}, as in training) and a class's score is the mean
     * of its prompts' scores.
     */
    static float[][] tokenWiseClassScores(ClipModel model, ImageTextDataset data, int batchSize, int[] labels,
                                          List<List<String>> names, List<String> templates) {
        List<String> prompts = new ArrayList<>();
        int[] classOf = new int[templates.size() * names.stream().mapToInt(List::size).sum()];
        for (int c = 0; c < names.size(); c++) {
            for (String t : templates) for (String name : names.get(c)) {
                classOf[prompts.size()] = c;
                prompts.add(Prompts.fill(t, name));
            }
        }
        int[] count = new int[names.size()];
        for (int c : classOf) count[c]++;
        float[][] perPrompt = TokenWiseScores.of(model, data, batchSize, labels, prompts).imageToText();
        float[][] out = new float[perPrompt.length][names.size()];
        for (int i = 0; i < perPrompt.length; i++) {
            for (int p = 0; p < prompts.size(); p++) out[i][classOf[p]] += perPrompt[i][p];
            for (int c = 0; c < count.length; c++) out[i][c] /= count[c];
        }
        return out;
    }

    public static float[][] classEmbeddings(FeatureEncoder model, List<List<String>> names, List<String> templates) {
        float[][] out = new float[names.size()][];
        for (int c = 0; c < names.size(); c++) {
            List<String> prompts = new ArrayList<>();
            for (String t : templates) for (String name : names.get(c)) prompts.add(Prompts.fill(t, name));
            float[][] e = FeatureExtractor.texts(model, prompts, 64);
            float[] mean = new float[e[0].length];
            for (float[] row : e) for (int j = 0; j < row.length; j++) mean[j] += row[j] / e.length;
            out[c] = FeatureExtractor.normalize(mean);
        }
        return out;
    }

    /**
     * The seed demo on a loaded batch: {@code softmax(logit_scale.exp() * cosine(image, prompt))}, one prompt per
     * class; returns [images][prompts].
     */
    public static float[][] probabilities(ClipModel model, dev.clip4j.data.BatchLoader.Batch batch, List<String> prompts) {
        int res = model.imageResolution();
        try (Scope s = Scope.open()) {
            Tensor images = Tensors.fromFloats(batch.images(), batch.size(), 3, res, res);
            Tensor txt = Tensors.fromRows(FeatureExtractor.texts(model, prompts, 64));
            return Tensors.toMatrix(Grad.noGrad(() -> NN.softmax(model.similarity(model.encodeImage(images), txt).perImage(), -1)));
        }
    }
}
