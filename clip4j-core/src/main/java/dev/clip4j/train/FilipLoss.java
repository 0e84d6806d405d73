package dev.clip4j.train;

import dev.clip4j.model.TokenWiseSimilarity;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * FILIP's loss: symmetric InfoNCE over token-wise scores ({@link TokenWiseSimilarity}). Images are ranked against
 * texts by {@code imageToText}, texts against images by {@code textToImage}; the diagonal pairs match.
 */
public final class FilipLoss {
    private FilipLoss() {}

    /** From the batch's token features [B, P, E] and [B, L, E], the texts' valid positions [B, L] and exp(logit_scale). */
    public static Tensor of(Tensor imageTokens, Tensor textTokens, Tensor textValid, Tensor logitScale) {
        return of(TokenWiseSimilarity.of(imageTokens, textTokens, textValid), logitScale);
    }

    public static Tensor of(TokenWiseSimilarity.Scores scores, Tensor logitScale) {
        Tensor perImage = logitScale.mul(scores.imageToText());
        Tensor perText = logitScale.mul(scores.textToImage()).t();
        Tensor labels = Tensors.arange(perImage.size(0));
        return Ops.div(NN.crossEntropy(perImage, labels).add(NN.crossEntropy(perText, labels)), 2.0);
    }
}
