package dev.clip4j.eval;

import dev.clip4j.data.BatchLoader;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.TokenWiseSimilarity;
import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Token-wise scores ({@link TokenWiseSimilarity}) of a dataset's images against a list of texts, for models trained
 * with FILIP. The texts' token features are computed once and kept (texts × longest caption × embed_dim floats); the
 * images stream batch by batch, and each batch meets the texts in blocks small enough to bound the
 * [images, patches, texts, tokens] similarity tensor.
 */
public final class TokenWiseScores {
    /** Elements of one block's similarity tensor: 16 M floats, 64 MB. */
    private static final long BLOCK_ELEMENTS = 16L << 20;
    private static final int TEXT_BATCH = 64;

    private TokenWiseScores() {}

    /** Both score matrices, images as rows: [images][texts]. */
    public record Matrices(float[][] imageToText, float[][] textToImage) {}

    /** Every image of {@code data} (in order; labels into {@code labelsOut} when given) against every text. */
    public static Matrices of(ClipModel model, ImageTextDataset data, int batchSize, int[] labelsOut, List<String> texts) {
        return of(model, data, batchSize, labelsOut, texts, BLOCK_ELEMENTS);
    }

    /** The same with blocks of at most {@code blockElements} similarities (at least one text per block). */
    static Matrices of(ClipModel model, ImageTextDataset data, int batchSize, int[] labelsOut, List<String> texts, long blockElements) {
        int ni = data.size(), nt = texts.size();
        if (nt == 0) throw new IllegalArgumentException("no texts to score the images against");
        float[][] i2t = new float[ni][], t2i = new float[ni][];
        int res = model.imageResolution();
        try (Scope outer = Scope.open()) {
            long[][] rows = tokenize(model, texts);
            Tensor tokens = Tensors.fromRows(rows);
            Tensor valid = TokenWiseSimilarity.textValid(tokens);
            Tensor textTokens = textTokens(model, tokens);
            long l = tokens.size(1);
            try (BatchLoader loader = BatchLoader.evaluation(data, batchSize, res, model.contextLength(), false)) {
                int at = 0;
                for (BatchLoader.Batch b; (b = loader.next()) != null; at += b.size()) {
                    dev.clip4j.io.StopSignal.check();
                    try (Scope s = Scope.open()) {
                        Tensor x = Tensors.fromFloats(b.images(), b.size(), 3, res, res);
                        Tensor img = Grad.noGrad(() -> Tensors.to(model.encodeImageTokens(x), DType.F32));
                        long per = Math.max(1, blockElements / Math.max(1, img.size(0) * img.size(1) * l));
                        List<float[][]> a = new ArrayList<>(), c = new ArrayList<>();
                        for (long start = 0; start < nt; start += per) {
                            long len = Math.min(per, nt - start);
                            try (Scope block = Scope.open()) {
                                Tensor t = textTokens.narrow(0, start, len), v = valid.narrow(0, start, len);
                                TokenWiseSimilarity.Scores sc = Grad.noGrad(() -> TokenWiseSimilarity.of(img, t, v));
                                a.add(Tensors.toMatrix(sc.imageToText()));
                                c.add(Tensors.toMatrix(sc.textToImage()));
                            }
                        }
                        for (int i = 0; i < b.size(); i++) {
                            i2t[at + i] = join(a, i, nt);
                            t2i[at + i] = join(c, i, nt);
                            if (labelsOut != null) labelsOut[at + i] = b.labels()[i];
                        }
                    }
                }
            }
        }
        return new Matrices(i2t, t2i);
    }

    /** CLIP token rows cut after the longest text's end token (later positions are padding in every row). */
    private static long[][] tokenize(ClipModel model, List<String> texts) {
        long[][] rows = ClipTokenizer.getDefault().tokenize(texts, model.contextLength(), true);
        int longest = 1;
        for (long[] r : rows) {
            int eot = 0;
            for (int j = 1; j < r.length; j++) if (r[j] > r[eot]) eot = j;
            longest = Math.max(longest, eot + 1);
        }
        long[][] out = new long[rows.length][];
        for (int i = 0; i < rows.length; i++) out[i] = java.util.Arrays.copyOf(rows[i], longest);
        return out;
    }

    private static Tensor textTokens(ClipModel model, Tensor tokens) {
        long n = tokens.size(0);
        List<Tensor> parts = new ArrayList<>();
        for (long start = 0; start < n; start += TEXT_BATCH) {
            dev.clip4j.io.StopSignal.check();
            Tensor slice = tokens.narrow(0, start, Math.min(TEXT_BATCH, n - start));
            parts.add(Grad.noGrad(() -> Tensors.to(model.encodeTextTokens(slice), DType.F32)));
        }
        return parts.size() == 1 ? parts.get(0) : Tensors.cat(0, parts.toArray(new Tensor[0]));
    }

    private static float[] join(List<float[][]> blocks, int row, int n) {
        float[] out = new float[n];
        int at = 0;
        for (float[][] blk : blocks) {
            System.arraycopy(blk[row], 0, out, at, blk[row].length);
            at += blk[row].length;
        }
        return out;
    }
}
