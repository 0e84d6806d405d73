package dev.clip4j.adapt;

import dev.clip4j.model.ClipModel;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs adaptation with every CLIP parameter frozen ({@code requires_grad} false, evaluation mode), so no gradient can
 * reach CLIP's weights, then restores the flags and mode the caller's model had.
 */
final class FrozenClip {
    private FrozenClip() {}

    static void run(ClipModel clip, Runnable body) {
        Map<String, Boolean> flags = new LinkedHashMap<>();
        clip.parameters().forEach((k, v) -> flags.put(k, v.requires_grad()));
        boolean training = clip.isTraining();
        clip.freeze();
        clip.train(false);
        try {
            body.run();
        } finally {
            Map<String, Tensor> params = clip.parameters();
            flags.forEach((k, v) -> params.get(k).requires_grad_(v));
            clip.train(training);
        }
    }
}
