package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import org.bytedeco.pytorch.Tensor;

/**
 * SigLIP's pairwise sigmoid loss, as open_clip's {@code SigLipLoss} on one machine: logits
 * {@code exp(logit_scale) · cos(image, text) + logit_bias}, labels {@code 2I − 1} (+1 for the matching pair, −1 for
 * every other), and {@code −Σ log σ(labels ⊙ logits) / N}. Every pair is an independent binary decision, so no
 * softmax couples the batch.
 */
public final class SigLipLoss {
    /** SigLIP's initial scale (the parameter holds its log) and bias. */
    public static final double INIT_LOGIT_SCALE = Math.log(10), INIT_LOGIT_BIAS = -10;

    private SigLipLoss() {}

    public static Tensor of(ClipModel.Features features, Tensor logitBias) {
        return ofScaledCosines(features.logits().perImage(), logitBias);
    }

    /** The loss from {@code exp(logit_scale) · cos} [N, N] (any floating dtype) and the bias. */
    public static Tensor ofScaledCosines(Tensor scaled, Tensor logitBias) {
        Tensor logits = scaled.add(logitBias);
        long n = logits.size(0);
        Tensor labels = dev.clip4j.torch.Tensors.to(NN.diagonalMatrix(n, 1, -1), dev.clip4j.torch.Tensors.dtype(logits));
        return Ops.div(NN.logSigmoid(labels.mul(logits)).sum().neg(), n);
    }
}
