package dev.clip4j.dist;

import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.Autograd;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.ContrastiveLoss;
import dev.clip4j.train.ContrastiveStep;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's contrastive step over the global batch of a data-parallel run, exact: each rank encodes its shard, the
 * features are all-gathered (without a graph), each rank takes its rows' part of the loss against all columns
 * ({@link ContrastiveLoss#localRows}, so logit memory is linear in the global batch), the gradients of all gathered
 * features are summed over the ranks (every rank's rows touch every column), and each rank back-propagates its own
 * slice through its encoders, in micro-batches if asked (the same gradient cache as {@link ContrastiveStep}).
 * Parameter gradients, {@code logit_scale}'s included, then hold this rank's share: {@link DataParallel#sumGradients}
 * completes them. Returns the global batch's loss.
 */
public final class GlobalContrastiveStep {
    private GlobalContrastiveStep() {}

    public static double run(DataParallel dp, ClipModel model, Tensor images, Tensor tokens, int microBatch, boolean bf16,
                             ContrastiveStep.Encoder imageEncoder, ContrastiveStep.Encoder textEncoder) {
        long n = images.size(0), start = n * dp.rank();
        boolean chunked = microBatch > 0 && microBatch < n;
        try (Autocast ac = bf16 ? Autocast.bf16() : null) {
            Tensor[] local = new Tensor[2];
            if (chunked) {
                Grad.noGrad(() -> {
                    local[0] = chunks(images, microBatch, imageEncoder);
                    local[1] = chunks(tokens, microBatch, textEncoder);
                });
            } else {
                local[0] = imageEncoder.apply(images);
                local[1] = textEncoder.apply(tokens);
            }
            Tensor imageAll = Autograd.leaf(dp.gather(local[0].detach()));
            Tensor textAll = Autograd.leaf(dp.gather(local[1].detach()));
            Tensor loss = ContrastiveLoss.localRows(imageAll, textAll, model.logitScale(), start, n);
            loss.backward(); // this rank's part of the gradients of every feature row, and of logit_scale
            Tensor grads = Tensors.cat(1, imageAll.grad(), textAll.grad()).contiguous();
            dp.sum(grads);
            long dim = imageAll.size(1);
            Tensor gImage = grads.narrow(0, start, n).narrow(1, 0, dim);
            Tensor gText = grads.narrow(0, start, n).narrow(1, dim, textAll.size(1));
            if (chunked) {
                for (long c = 0; c < n; c += microBatch) {
                    long len = Math.min(microBatch, n - c);
                    Tensor fi = imageEncoder.apply(images.narrow(0, c, len));
                    if (fi.requires_grad()) Autograd.backward(fi, gImage.narrow(0, c, len)); // not when locked
                    Tensor ft = textEncoder.apply(tokens.narrow(0, c, len));
                    if (ft.requires_grad()) Autograd.backward(ft, gText.narrow(0, c, len));
                }
            } else {
                if (local[0].requires_grad()) Autograd.backward(local[0], gImage);
                if (local[1].requires_grad()) Autograd.backward(local[1], gText);
            }
            return dp.sum(Tensors.item(loss))[0];
        }
    }

    private static Tensor chunks(Tensor input, int microBatch, ContrastiveStep.Encoder encoder) {
        long n = input.size(0);
        Tensor[] parts = new Tensor[(int) ((n + microBatch - 1) / microBatch)];
        for (int c = 0; c < parts.length; c++) {
            long s = (long) c * microBatch;
            parts[c] = encoder.apply(input.narrow(0, s, Math.min(microBatch, n - s)));
        }
        return Tensors.cat(0, parts);
    }
}
