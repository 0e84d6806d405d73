package dev.clip4j.model;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * FILIP's token-wise late interaction. With the L2-normalised token features of images {@code I} [Ni, P, E] and texts
 * {@code T} [Nt, L, E] and the texts' valid positions {@code v} [Nt, L]:
 * <pre>
 *   imageToText[i, j] = mean_p  max_{t : v[j,t]} I[i,p] · T[j,t]    (each image token finds its best text token)
 *   textToImage[i, j] = mean_{t : v[j,t]}  max_p I[i,p] · T[j,t]    (each valid text token finds its best patch)
 * </pre>
 * Padding tokens take part in neither the max nor the mean. The inputs are token features as the towers give them
 * (unnormalised, any dtype); the scores are computed in float32 (float64 inputs stay float64).
 */
public final class TokenWiseSimilarity {
    private TokenWiseSimilarity() {}

    /** Both scores, each [Ni, Nt] with images as rows. */
    public record Scores(Tensor imageToText, Tensor textToImage) {}

    public static Scores of(Tensor imageTokens, Tensor textTokens, Tensor textValid) {
        long ni = imageTokens.size(0), p = imageTokens.size(1), e = imageTokens.size(2);
        long nt = textTokens.size(0), l = textTokens.size(1);
        if (textTokens.size(2) != e) throw new IllegalArgumentException("image and text token widths differ");
        DType d = Tensors.dtype(imageTokens) == DType.F64 ? DType.F64 : DType.F32;
        Tensor img = NN.l2Normalize(Tensors.to(imageTokens, d)).reshape(ni * p, e);
        Tensor txt = NN.l2Normalize(Tensors.to(textTokens, d)).reshape(nt * l, e);
        Tensor sim = img.matmul(txt.t()).reshape(ni, p, nt, l);                 // [Ni, P, Nt, L]
        Tensor valid = Tensors.to(textValid, DType.BOOL);
        Tensor keep = valid.reshape(1, 1, nt, l).expand(ni, p, nt, l);
        Tensor imageToText = NN.amax(NN.keepOrNegativeInfinity(sim, keep), 3).mean(new long[] {1}, false, null);
        Tensor weights = Tensors.to(valid, d);                                 // [Nt, L]
        Tensor bestPatch = NN.amax(sim, 1);                                    // [Ni, Nt, L]
        Tensor textToImage = NN.sum(bestPatch.mul(weights.reshape(1, nt, l)), 2).div(NN.sum(weights, 1).reshape(1, nt));
        return new Scores(imageToText, textToImage);
    }

    /**
     * The positions of CLIP token rows [N, L] that take part: after the start token, up to and including the end
     * token (the highest id of each row). The start token is left out because under the causal mask its output is
     * the same for every text, so it would add a text-independent term to every score.
     */
    public static Tensor textValid(Tensor tokens) {
        long n = tokens.size(0), l = tokens.size(1);
        Tensor pos = Tensors.arange(l).reshape(1, l);
        Tensor eot = NN.argmax(tokens, -1).reshape(n, 1);
        return pos.le(eot).logical_and(pos.gt(Tensors.zeros(DType.I64)));
    }
}
