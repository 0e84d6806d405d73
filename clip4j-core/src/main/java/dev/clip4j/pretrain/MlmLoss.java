package dev.clip4j.pretrain;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * The masked-language-model loss at the chosen positions: cross-entropy against the original ids, and with momentum
 * distillation (ALBEF) {@code (1 − α)·CE + α·mean(−Σ softmax(momentum scores)·log_softmax(scores))}. Computing only
 * the chosen rows gives the same value as BERT's loss over every position with -100 labels ignored.
 */
public final class MlmLoss {
    private MlmLoss() {}

    /** scores [N, V] at the chosen positions, targets [N] int64; {@code momentumScores} [N, V] or null. */
    public static Tensor of(Tensor scores, Tensor targets, Tensor momentumScores, double alpha) {
        scores = Tensors.to(scores, DType.F32);
        Tensor ce = NN.crossEntropy(scores, targets);
        if (momentumScores == null || alpha == 0) return ce;
        Tensor soft = NN.softmax(Tensors.to(momentumScores.detach(), DType.F32), 1);
        Tensor distill = ItaLoss.softCrossEntropy(scores, soft);
        return Ops.mul(ce, 1 - alpha).add(Ops.mul(distill, alpha));
    }
}
