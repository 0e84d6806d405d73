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

    /**
     * One rank's part of the loss over a global batch of N pairs (open_clip's {@code local_loss}): its {@code rows}
     * images from {@code start} against all N texts, and its texts against all images, each cross-entropy summed over
     * these rows and divided by 2N, so that the parts of all ranks add up to {@link #of} over the whole batch while
     * each rank holds only rows x N logits. The features are the global batch's, unnormalised.
     */
    public static Tensor localRows(Tensor imageAll, Tensor textAll, Tensor logitScale, long start, long rows) {
        long n = imageAll.size(0);
        Tensor img = NN.l2Normalize(ClipModel.atLeastFloat32(imageAll));
        Tensor txt = NN.l2Normalize(ClipModel.atLeastFloat32(textAll));
        Tensor perImage = logitScale.mul(img.narrow(0, start, rows).matmul(txt.t()));
        Tensor perText = logitScale.mul(txt.narrow(0, start, rows).matmul(img.t()));
        Tensor labels = Ops.add(Tensors.arange(rows), start);
        Tensor mean = Ops.div(NN.crossEntropy(perImage, labels).add(NN.crossEntropy(perText, labels)), 2.0);
        return Ops.mul(mean, rows / (double) n);
    }

    public static Tensor of(ClipModel.Logits logits) {
        Tensor labels = Tensors.arange(logits.perImage().size(0));
        return Ops.div(NN.crossEntropy(logits.perImage(), labels).add(NN.crossEntropy(logits.perText(), labels)), 2.0);
    }
}
