package dev.clip4j.train;

import dev.clip4j.torch.Ops;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/** CLIP's symmetric InfoNCE: the mean of cross-entropy over images and over texts, the diagonal being the match. */
public final class ContrastiveLoss {
    private ContrastiveLoss() {}

    /** The loss of a forward's features ({@link ClipModel#forward}): CLIP's logits, then {@link #of(ClipModel.Logits)}. */
    public static Tensor of(ClipModel.Features features) {
        return of(features.logits());
    }

    public static Tensor of(ClipModel.Logits logits) {
        Tensor labels = Tensors.arange(logits.perImage().size(0));
        return Ops.div(NN.crossEntropy(logits.perImage(), labels).add(NN.crossEntropy(logits.perText(), labels)), 2.0);
    }
}
