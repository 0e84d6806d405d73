package dev.clip4j.train;

import org.bytedeco.pytorch.Tensor;

/**
 * One training batch as an {@link Objective} sees it: preprocessed images [B, 3, R, R] (null for frame-feature data),
 * token rows [B, L], and the class label of each example (-1 for caption-only data), for objectives that use labels
 * (same-class positives, few-shot classification), a second augmented view of the images when the run uses SimCLR's
 * image pairs (null otherwise), and for frame-feature data (a video setting) the frames [B, T, D] with their validity
 * [B, T] (bool).
 */
public record TrainBatch(Tensor images, Tensor tokens, int[] labels, Tensor secondView, Tensor frames, Tensor frameMask) {
    public TrainBatch(Tensor images, Tensor tokens, int[] labels) {
        this(images, tokens, labels, null, null, null);
    }

    public TrainBatch(Tensor images, Tensor tokens, int[] labels, Tensor secondView) {
        this(images, tokens, labels, secondView, null, null);
    }

    public int size() {
        return (int) tokens.size(0);
    }
}
