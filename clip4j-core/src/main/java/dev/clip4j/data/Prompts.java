package dev.clip4j.data;

import java.util.List;
import java.util.SplittableRandom;

/** Prompt templates that turn class names into captions ({@code {}} is the class name), after CLIP's ensembles. */
public final class Prompts {
    public static final List<String> TEMPLATES = List.of(
            "a photo of a {}.", "a picture of a {}.", "a photo of the {}.", "a black and white photo of a {}.",
            "a low resolution photo of a {}.", "a close-up photo of a {}.", "a cropped photo of a {}.",
            "a photo of a small {}.", "a photo of a large {}.", "a blurry photo of a {}.", "an image of a {}.",
            "a {}.", "itap of a {}.", "a good photo of a {}.", "a product photo of a {}.", "a grayscale photo of a {}.");

    private Prompts() {}

    public static String fill(String template, String name) {
        return template.replace("{}", name);
    }

    /** A caption for a class: a random template and a random synonym (the first name counts as one). */
    public static String caption(List<String> names, List<String> templates, SplittableRandom rng) {
        return fill(templates.get(rng.nextInt(templates.size())), names.get(rng.nextInt(names.size())));
    }
}
