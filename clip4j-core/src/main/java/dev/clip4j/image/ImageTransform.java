package dev.clip4j.image;

import java.util.SplittableRandom;

/**
 * A data stage: an image in its PIL mode to the model's resolution (still uint8 pixels; {@link ClipPreprocessor#normalize}
 * follows). Random transforms draw only from {@code rng}, which the loader seeds per sample, so results are
 * reproducible on any thread and after a resume.
 */
@FunctionalInterface
public interface ImageTransform {
    RasterImage apply(RasterImage image, SplittableRandom rng);

    /** CLIP's evaluation transform: bicubic resize of the short side, centre crop ({@code clip._transform}). */
    static ImageTransform evaluation(int resolution) {
        ClipPreprocessor pre = new ClipPreprocessor(resolution);
        return (image, rng) -> pre.resizeAndCrop(image);
    }
}
