package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.Autograd;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * Forward and backward of the contrastive loss over one batch, optionally in micro-batches that give exactly the
 * full-batch gradients (gradient caching): all features are first computed without a graph, the loss and its
 * gradient with respect to the features are taken, then each micro-batch is re-run with a graph and
 * back-propagates its slice of the feature gradients. Memory then scales with the micro-batch, not the batch.
 */
public final class ContrastiveStep {
    private ContrastiveStep() {}

    /** A loss of the pooled features of a batch (and the logit scale): what gradient caching can cut into micro-batches. */
    @FunctionalInterface
    public interface FeatureLoss {
        Tensor apply(ClipModel.Features features);
    }

    /** Accumulates gradients into the model's parameters; returns the loss. {@code bf16} runs under autocast. */
    public static double run(ClipModel model, Tensor images, Tensor tokens, int microBatch, boolean bf16) {
        return run(model, images, tokens, microBatch, bf16, ContrastiveLoss::of);
    }

    /** One tower's forward on a slice of the batch (pooled or token features). */
    @FunctionalInterface
    public interface Encoder {
        Tensor apply(Tensor input);
    }

    /** The same for any loss of the pooled features: micro-batches still give exactly the full-batch gradients. */
    public static double run(ClipModel model, Tensor images, Tensor tokens, int microBatch, boolean bf16, FeatureLoss lossOf) {
        return run(model, images, tokens, microBatch, bf16, model::encodeImage, model::encodeText, lossOf);
    }

    /**
     * The same with other per-example features, e.g. token features for FILIP: any loss of the encoders' outputs (and
     * the logit scale) is cut exactly, because each example's features depend on that example alone.
     */
    public static double run(ClipModel model, Tensor images, Tensor tokens, int microBatch, boolean bf16,
                             Encoder imageEncoder, Encoder textEncoder, FeatureLoss lossOf) {
        long n = images.size(0);
        if (microBatch <= 0 || microBatch >= n) {
            try (Autocast ac = bf16 ? Autocast.bf16() : null) {
                Tensor loss = lossOf.apply(new ClipModel.Features(imageEncoder.apply(images), textEncoder.apply(tokens), model.logitScale()));
                loss.backward();
                return Tensors.item(loss);
            }
        }
        int chunks = (int) ((n + microBatch - 1) / microBatch);
        Tensor[] img = new Tensor[chunks], txt = new Tensor[chunks];
        try (Autocast ac = bf16 ? Autocast.bf16() : null) {
            Grad.noGrad(() -> {
                for (int c = 0; c < chunks; c++) {
                    long start = (long) c * microBatch, len = Math.min(microBatch, n - start);
                    img[c] = imageEncoder.apply(images.narrow(0, start, len));
                    txt[c] = textEncoder.apply(tokens.narrow(0, start, len));
                }
            });
            Tensor imageFeatures = Autograd.leaf(Tensors.cat(0, img));
            Tensor textFeatures = Autograd.leaf(Tensors.cat(0, txt));
            Tensor loss = lossOf.apply(new ClipModel.Features(imageFeatures, textFeatures, model.logitScale()));
            loss.backward(); // gradients for the features and for logit_scale
            Tensor gImage = imageFeatures.grad(), gText = textFeatures.grad();
            for (int c = 0; c < chunks; c++) {
                long start = (long) c * microBatch, len = Math.min(microBatch, n - start);
                Tensor fi = imageEncoder.apply(images.narrow(0, start, len));
                if (fi.requires_grad()) Autograd.backward(fi, gImage.narrow(0, start, len)); // not when locked
                Tensor ft = textEncoder.apply(tokens.narrow(0, start, len));
                if (ft.requires_grad()) Autograd.backward(ft, gText.narrow(0, start, len));
            }
            return Tensors.item(loss);
        }
    }
}
