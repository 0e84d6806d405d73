package dev.clip4j.eval;

import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * Dot-product scores between rows of features (cosine similarity for normalised rows) and top-k, in one place for
 * {@link dev.clip4j.Clip}, zero-shot, retrieval and search: a float32 matrix product through libtorch, in blocks of
 * queries so memory stays bounded for large sets.
 */
public final class Similarity {
    private static final int QUERY_BLOCK = 1024;

    private Similarity() {}

    /** scores[q][k] = queries[q] · keys[k]. */
    public static float[][] scores(float[][] queries, float[][] keys) {
        float[][] out = new float[queries.length][];
        if (queries.length == 0) return out;
        if (keys.length == 0) {
            for (int i = 0; i < out.length; i++) out[i] = new float[0];
            return out;
        }
        try (Scope s = Scope.open()) {
            Tensor k = Tensors.fromRows(keys).t();
            for (int start = 0; start < queries.length; start += QUERY_BLOCK) {
                int end = Math.min(queries.length, start + QUERY_BLOCK);
                try (Scope block = Scope.open()) {
                    float[][] rows = Tensors.toMatrix(Tensors.fromRows(java.util.Arrays.copyOfRange(queries, start, end)).matmul(k));
                    System.arraycopy(rows, 0, out, start, rows.length);
                }
            }
        }
        return out;
    }

    /** The indices of the {@code k} highest scores of each row, best first (ties: the lower index first). */
    public static int[][] topK(float[][] scores, int k) {
        int[][] out = new int[scores.length][];
        for (int q = 0; q < scores.length; q++) {
            float[] row = scores[q];
            int n = Math.min(k, row.length);
            Integer[] idx = new Integer[row.length];
            for (int i = 0; i < idx.length; i++) idx[i] = i;
            java.util.Arrays.sort(idx, (a, b) -> row[a] != row[b] ? Float.compare(row[b], row[a]) : Integer.compare(a, b));
            out[q] = new int[n];
            for (int i = 0; i < n; i++) out[q][i] = idx[i];
        }
        return out;
    }
}
