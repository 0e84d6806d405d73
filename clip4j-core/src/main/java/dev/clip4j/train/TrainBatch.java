package dev.clip4j.train;

import org.bytedeco.pytorch.Tensor;

/**
 * One training batch as an {@link Objective} sees it: preprocessed images [B, 3, R, R], token rows [B, L], and the
 * class label of each example (-1 for caption-only data), for objectives that use labels (same-class positives,
 * few-shot classification), and a second augmented view of the images when the run uses SimCLR's image pairs
 * (null otherwise).
 */
public record TrainBatch(Tensor images, Tensor tokens, int[] labels, Tensor secondView) {
    public TrainBatch(Tensor images, Tensor tokens, int[] labels) {
        this(images, tokens, labels, null);
    }

    public int size() {
        return (int) images.size(0);
    }
}
