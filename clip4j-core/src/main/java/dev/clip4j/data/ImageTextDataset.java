package dev.clip4j.data;

import dev.clip4j.image.RasterImage;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Images with captions, and optionally class labels. Class-labelled data makes its captions from prompt templates
 * and class names (synonyms included), chosen by the given random source so training is reproducible.
 */
public interface ImageTextDataset {
    String name();

    int size();

    /** The image, in its PIL mode; decoding happens here (on a loader thread). */
    RasterImage image(int index);

    /** A caption for the image; class-labelled datasets draw a template and a synonym from {@code rng}. */
    String caption(int index, SplittableRandom rng);

    /** The class index, or -1 for caption-only data. */
    int label(int index);

    /** Class names (the first name of each class), empty for caption-only data. */
    List<String> classNames();

    /**
     * The prompt templates this dataset's captions are made with ({@code {}} is the class name): zero-shot evaluation
     * uses the same ones (CLIP's generic photo templates unless a dataset declares its own).
     */
    default List<String> templates() {
        return Prompts.TEMPLATES;
    }
}
