package dev.clip4j.eval;

import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.FeatureEncoder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Image-text retrieval: for each image, the rank of its caption among all captions (and the reverse). Images that
 * share an identical caption count as correct for one another: the first correct item's rank is the one that counts.
 */
public final class Retrieval {
    private Retrieval() {}

    public static RetrievalResult evaluate(ClipModel model, ImageTextDataset data, int batchSize) {
        return evaluate(model, model, data, batchSize);
    }

    /**
     * As {@link #evaluate(ClipModel, ImageTextDataset, int)} with the towers run by {@code towers} (the model itself on
     * libtorch, or its {@code OnnxClip} on ONNX Runtime); a model scored token-wise runs on libtorch.
     */
    public static RetrievalResult evaluate(ClipModel model, FeatureEncoder towers, ImageTextDataset data, int batchSize) {
        int n = data.size();
        List<String> captions = captions(data);
        int[] group = groups(captions);
        if (model.scoring() == dev.clip4j.model.Scoring.TOKEN_WISE) {
            // FILIP's two directions: images rank texts by imageToText, texts rank images by textToImage
            TokenWiseScores.Matrices m = TokenWiseScores.of(model, data, batchSize, null, captions);
            return new RetrievalResult(data.name(), n, recall(m.imageToText(), group), recall(transpose(m.textToImage()), group));
        }
        float[][] img = FeatureExtractor.images(towers, data, batchSize, null);
        float[][] txt = FeatureExtractor.texts(towers, captions, batchSize);
        return new RetrievalResult(data.name(), n, recall(Similarity.scores(img, txt), group), recall(Similarity.scores(txt, img), group));
    }

    /** The caption of each example, drawn once with a fixed seed (the same in every evaluation). */
    public static List<String> captions(ImageTextDataset data) {
        List<String> captions = new ArrayList<>();
        SplittableRandom fixed = new SplittableRandom(0);
        for (int i = 0; i < data.size(); i++) captions.add(data.caption(i, fixed.split()));
        return captions;
    }

    /** Identical captions form one group: a text's correct images are the group's images. */
    public static int[] groups(List<String> captions) {
        Map<String, Integer> groupOf = new HashMap<>();
        int[] group = new int[captions.size()];
        for (int i = 0; i < group.length; i++) group[i] = groupOf.computeIfAbsent(captions.get(i), c -> groupOf.size());
        return group;
    }

    private static float[][] transpose(float[][] m) {
        int rows = m.length, cols = rows == 0 ? 0 : m[0].length;
        float[][] out = new float[cols][rows];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) out[j][i] = m[i][j];
        return out;
    }

    /** For each query (a row of {@code scores} over the candidates), the 1-based rank of the best-ranked candidate in its group. */
    public static RetrievalResult.Recall recall(float[][] scores, int[] group) {
        int n = scores.length, r1 = 0, r5 = 0, r10 = 0;
        double rankSum = 0;
        for (int q = 0; q < n; q++) {
            float best = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < n; c++) if (group[c] == group[q]) best = Math.max(best, scores[q][c]);
            int rank = 1;
            for (int c = 0; c < n; c++) if (group[c] != group[q] && scores[q][c] > best) rank++;
            if (rank <= 1) r1++;
            if (rank <= 5) r5++;
            if (rank <= 10) r10++;
            rankSum += rank;
        }
        return new RetrievalResult.Recall((double) r1 / n, (double) r5 / n, (double) r10 / n, rankSum / n);
    }
}
